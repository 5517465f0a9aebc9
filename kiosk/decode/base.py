"""The one small interface every decoding engine implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class DecodedCode:
    """The raw bytes of one QR code and its four corners in image pixels (x, y), clockwise from top-left."""

    data: bytes
    points: tuple[tuple[float, float], ...]
    engine: str


class DecoderEngine(Protocol):
    name: str

    def decode(self, gray: np.ndarray) -> list[DecodedCode]:
        """Every QR code in a grayscale (H×W uint8) image; [] when none. Never raises on bad pixels."""
        ...
