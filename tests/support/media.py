"""Real images and videos of QR codes for the tests: made with `qrcode`, written with cv2.VideoWriter (MJPG AVI)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import qrcode
from qrcode.constants import ERROR_CORRECT_M


def qr_image(payload: str | bytes, box_size: int = 6) -> np.ndarray:
    """A QR code as a grayscale image with its quiet zone; str payloads are encoded as UTF-8 bytes."""
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data, optimize=0)
    code.make(fit=True)
    return np.array(code.make_image().convert("L"), dtype=np.uint8)


def frame_with_code(
    payload: str | bytes | None, size: tuple[int, int] = (640, 480), box_size: int = 5, offset: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """A BGR frame of `size` (width, height): a grey scene with the code near its centre (or none)."""
    width, height = size
    frame = np.full((height, width, 3), 90, dtype=np.uint8)
    cv2.rectangle(frame, (0, height * 2 // 3), (width, height), (60, 70, 80), -1)  # a floor, so it's not flat
    if payload is not None:
        code = cv2.cvtColor(qr_image(payload, box_size), cv2.COLOR_GRAY2BGR)
        h, w = code.shape[:2]
        top = max(0, (height - h) // 2 + offset[1])
        left = max(0, (width - w) // 2 + offset[0])
        frame[top : top + h, left : left + w] = code[: height - top, : width - left]
    return frame


def write_video(
    path: Path,
    script: Sequence[tuple[str | bytes | None, float]],
    fps: float = 15.0,
    size: tuple[int, int] = (640, 480),
) -> Path:
    """A video that shows each (payload or None, seconds) of `script` in turn."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), "cv2 cannot write MJPG AVI here"
    for payload, seconds in script:
        frame = frame_with_code(payload, size)
        for _ in range(max(1, round(seconds * fps))):
            writer.write(frame)
    writer.release()
    return path
