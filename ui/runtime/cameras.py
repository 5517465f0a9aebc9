"""The cameras this machine has, for the settings page's list: V4L2 devices from sysfs (no camera is opened).

A USB webcam shows up as two or more /dev/video nodes (capture, metadata); only the first node of each device
(`index` 0) captures, so only those are listed. Each is offered by its number, the spec `kiosk.sources` opens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SYSFS_VIDEO = Path("/sys/class/video4linux")


@dataclass(frozen=True)
class CameraChoice:
    spec: str  # what camera.source gets: "0", "/dev/video2", "demo", an URL
    label: str  # what the guard reads: "HD Webcam C270 (/dev/video0)"


def detect_cameras(sysfs: Path = SYSFS_VIDEO) -> list[CameraChoice]:
    """The capture devices, by number; [] when there is no V4L2 (or no camera plugged in)."""
    found = []
    nodes = sorted(sysfs.glob("video*"), key=lambda p: int(re.sub(r"\D", "", p.name) or 0)) if sysfs.is_dir() else []
    for node in nodes:
        number = re.sub(r"\D", "", node.name)
        if not number or _read(node / "index", "0") != "0":
            continue
        name = _read(node / "name", "") or f"Camera {number}"
        found.append(CameraChoice(number, f"{name} (/dev/{node.name})"))
    return found


def _read(path: Path, default: str) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return default
