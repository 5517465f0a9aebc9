"""Frame sources: webcam, IP camera, video file, folder of images, built-in demo."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class SourceState(enum.StrEnum):
    OK = "ok"
    LOST = "lost"
    RECONNECTING = "reconnecting"
    ENDED = "ended"  # a file source at its end: the scan is over


@dataclass(frozen=True)
class Frame:
    """One BGR frame. `position` is seconds since the source started: the frame's time in a video file,
    elapsed monotonic time for a live source."""

    image: np.ndarray
    index: int
    position: float


class FrameSource(Protocol):
    """`read()` returns the next frame, or None when none is available now (see `state`).

    Live sources reopen a lost device themselves with backoff. `is_file` sources end; their clock is the
    frame position, and they are read as fast as the machine allows."""

    is_file: bool

    @property
    def state(self) -> SourceState: ...

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


class SourceError(Exception):
    """A source that cannot be opened at all (a camera that does not exist, a corrupt file): one line for the user."""
