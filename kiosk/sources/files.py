"""File sources: a video file, or a folder of images. They end; their clock is the frame's time in the file."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import cv2
import numpy as np

from kiosk.decode.images import ImageUnreadable, load_image
from kiosk.sources.base import Frame, SourceError, SourceState

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})
DEFAULT_FPS = 15.0


class _FileFrames:
    """What both file sources share: the first frame is read at open (so a file with none fails there), then
    `read()` hands out frames in order until `_next()` has none, and the source ends."""

    is_file = True
    _state = SourceState.OK
    _pending: Frame | None = None

    @property
    def state(self) -> SourceState:
        return self._state

    def read(self) -> Frame | None:
        """The next frame; None and state ENDED at the end of the file."""
        frame, self._pending = self._pending, None
        if frame is None and self._state is SourceState.OK:
            frame = self._next()
        if frame is None:
            self.close()
        return frame

    def _next(self) -> Frame | None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class VideoFileSource(_FileFrames):
    """Frames of a video file in order, as fast as they are read; `position` is the frame time in the video."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"video file not found: {self.path}")
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise SourceError(f"cannot open {self.path.name}: not a video OpenCV can read, or corrupt")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if math.isfinite(fps) and 0 < fps <= 1000 else DEFAULT_FPS
        self._cap = cap
        self._index = 0
        self._last_position = -1.0
        self._state = SourceState.OK
        self._pending = self._next()
        if self._pending is None:
            self.close()
            raise SourceError(f"{self.path.name} has no readable frames (corrupt or empty video)")

    def _next(self) -> Frame | None:
        try:
            ok, image = self._cap.read()
        except cv2.error:
            ok, image = False, None
        if not ok or not isinstance(image, np.ndarray) or image.size == 0:
            return None
        frame = Frame(image, self._index, self._position())
        self._index += 1
        self._last_position = frame.position
        return frame

    def _position(self) -> float:
        """The container's timestamp of the frame just read when it is sane, else index / fps."""
        msec = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        seconds = msec / 1000.0 if math.isfinite(msec) else -1.0
        if seconds > self._last_position or (self._index == 0 and seconds >= 0):
            return seconds
        return self._index / self.fps

    def close(self) -> None:
        _release(self._cap)
        self._state = SourceState.ENDED


class ImageFolderSource(_FileFrames):
    """The images of a folder in natural name order, one every `frame_interval_s` of source time.

    Unreadable images are skipped with a warning; `position` stays tied to the file's place in the order."""

    def __init__(self, folder: str | Path, *, frame_interval_s: float = 1 / DEFAULT_FPS) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SourceError(f"image folder not found: {self.folder}")
        self.paths = sorted(
            (p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()), key=_natural_key
        )
        if not self.paths:
            raise SourceError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {self.folder}")
        self.frame_interval_s = frame_interval_s
        self.skipped: list[Path] = []
        self._cursor = 0
        self._index = 0
        self._state = SourceState.OK
        self._pending = self._next()
        if self._pending is None:
            raise SourceError(f"none of the {len(self.paths)} images in {self.folder} could be read")

    def _next(self) -> Frame | None:
        while self._cursor < len(self.paths):
            path, ordinal = self.paths[self._cursor], self._cursor
            self._cursor += 1
            try:
                image = load_image(path)  # any size, 16-bit, CMYK, WebP; a bad file is skipped, the run goes on
            except ImageUnreadable as error:
                log.warning("skipping %s: %s", path.name, error)
                self.skipped.append(path)
                continue
            frame = Frame(image, self._index, ordinal * self.frame_interval_s)
            self._index += 1
            return frame
        return None

    def close(self) -> None:
        self._cursor = len(self.paths)
        self._pending = None
        self._state = SourceState.ENDED


def _natural_key(path: Path) -> list[object]:
    """frame2.png before frame10.png."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _release(cap: cv2.VideoCapture | None) -> None:
    if cap is not None:
        cap.release()
