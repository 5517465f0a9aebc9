"""Frame sources: webcam, IP camera, video file, folder of images, built-in demo.

`open_source(spec)` turns what the user typed (a camera index, /dev/videoN, a URL, a file, a folder, "demo")
into a FrameSource, or raises SourceError with one line the user can act on."""

from __future__ import annotations

from pathlib import Path

from kiosk.sources.base import Frame, FrameSource, SourceError, SourceState
from kiosk.sources.camera import CameraSource, network_opener, webcam_opener
from kiosk.sources.demo import DemoSource
from kiosk.sources.files import ImageFolderSource, VideoFileSource
from kiosk.sources.slot import FrameGrabber, LatestFrameSlot

__all__ = [
    "CameraSource",
    "DemoSource",
    "Frame",
    "FrameGrabber",
    "FrameSource",
    "ImageFolderSource",
    "LatestFrameSlot",
    "SourceError",
    "SourceState",
    "VideoFileSource",
    "open_source",
]

_NETWORK_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")


def open_source(spec: str, *, demo_seed: int = 0, demo_realtime: bool = True) -> FrameSource:
    """ "0" / "/dev/video0" -> webcam at 1280x720 MJPG; rtsp:// or http(s):// -> IP camera; a video file;
    a folder of images; "demo" -> the built-in demo scene."""
    spec = spec.strip()
    if not spec:
        raise SourceError("no video source given (a camera number, a device, a URL, a file, a folder or 'demo')")
    if spec.lower() == "demo":
        return DemoSource(demo_seed, realtime=demo_realtime)
    if spec.isdigit():
        return CameraSource(webcam_opener(int(spec)), description=f"camera {spec}")
    if spec.startswith("/dev/video"):
        if not Path(spec).exists():
            raise SourceError(f"camera {spec} does not exist (is it plugged in?)")
        return CameraSource(webcam_opener(spec), description=f"camera {spec}")
    if spec.lower().startswith(_NETWORK_SCHEMES):
        return CameraSource(network_opener(spec), description=f"IP camera {_redact(spec)}")
    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageFolderSource(path)
    if path.is_file():
        return VideoFileSource(path)
    raise SourceError(f"no such camera, file or folder: {spec}")


def _redact(url: str) -> str:
    """An IP camera URL without its password (rtsp://user:secret@host/...), fit for a message or a log."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    # The last "@" ends the user info (as FFmpeg reads it): a camera password may itself contain "@".
    return f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{path}"
