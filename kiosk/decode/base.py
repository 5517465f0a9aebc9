"""The one small interface every decoding engine implements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class DecodedCode:
    """The raw bytes of one QR code and its four corners in image pixels (x, y), clockwise from top-left.

    `text` is the payload as text when the engine knows its character set (zxing-cpp honours ECI and guesses
    Shift-JIS or Latin-1 without one); None otherwise. Decisions use `data`; only what is shown uses `text`."""

    data: bytes
    points: tuple[tuple[float, float], ...]
    engine: str
    text: str | None = field(default=None, compare=False)

    def display_text(self) -> str:
        return self.text if self.text is not None else self.data.decode("utf-8", errors="replace")


class DecoderEngine(Protocol):
    name: str

    def decode(self, gray: np.ndarray) -> list[DecodedCode]:
        """Every QR code in a grayscale (H×W uint8) image; [] when none. Never raises on bad pixels."""
        ...


class DecoderUnavailable(Exception):
    """A decoding engine whose library is missing: the message names what to install."""


def clockwise_from_top_left(points: Iterable[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Orders corner points clockwise (in image coordinates, y down) starting from the one nearest the top-left.

    Used for engines that do not say which corner is which; zxing's own order (the code's top-left) is kept."""
    pts = [(float(x), float(y)) for x, y in points]
    if len(pts) < 3:
        return tuple(pts)
    cx = sum(p[0] for p in pts) / len(pts)
    cy = sum(p[1] for p in pts) / len(pts)
    pts.sort(key=lambda p: np.arctan2(p[1] - cy, p[0] - cx))  # y down: increasing angle is clockwise on screen
    start = min(range(len(pts)), key=lambda i: pts[i][0] + pts[i][1])
    return tuple(pts[start:] + pts[:start])


def as_gray(image: np.ndarray) -> np.ndarray:
    """A contiguous H×W uint8 view of a BGR, BGRA or grayscale image (engines need exactly that)."""
    import cv2

    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)
