"""From per-frame decodes to presentations: a code shown to the camera counts once.

A code becomes a presentation when the same bytes are read on `min_frames` consecutive processed frames
(one stray read of a half-visible code is not a scan). While it stays in view, or drops out of a few frames
because of glare or motion, it is not presented again; only after it has been out of sight for longer than
`forget_after_s` can it be presented again (the rules' cooldown then decides whether that is a duplicate).
Feed every processed frame, including frames with no code: a miss is what breaks a streak."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.decode.base import DecodedCode
from kiosk.sources.slot import LatestFrameSlot

__all__ = ["LatestFrameSlot", "Stabilizer"]


@dataclass
class _Track:
    streak: int  # consecutive processed frames the code was read on
    last_seen: float  # source position (seconds) of the last read
    presented: bool


class Stabilizer:
    """`update(codes, position)` -> the codes that became a presentation on this frame (usually [])."""

    def __init__(self, min_frames: int = 3, forget_after_s: float = 2.0) -> None:
        if min_frames < 1:
            raise ValueError("min_frames must be at least 1")
        if forget_after_s <= 0:
            raise ValueError("forget_after_s must be positive")
        self.min_frames = min_frames
        self.forget_after_s = forget_after_s
        self._tracks: dict[bytes, _Track] = {}
        self._last_position: float | None = None

    def update(self, codes: Iterable[DecodedCode], position: float) -> list[DecodedCode]:
        """Feeds one processed frame (its codes, maybe none, and its source position in seconds)."""
        if self._last_position is not None and position < self._last_position:
            self.reset()  # a new source, or a video that restarted: old tracks mean nothing
        self._last_position = position
        current: dict[bytes, DecodedCode] = {}
        for code in codes:
            current.setdefault(code.data, code)
        self._age(current, position)
        presented = []
        for data, code in current.items():
            track = self._tracks.get(data)
            if track is None or position - track.last_seen > self.forget_after_s:
                track = self._tracks[data] = _Track(0, position, False)
            track.streak += 1
            track.last_seen = position
            if not track.presented and track.streak >= self.min_frames:
                track.presented = True
                presented.append(code)
        return presented

    def _age(self, current: dict[bytes, DecodedCode], position: float) -> None:
        for data in list(self._tracks):
            if data in current:
                continue
            track = self._tracks[data]
            track.streak = 0
            if position - track.last_seen > self.forget_after_s:
                del self._tracks[data]

    def in_view(self) -> list[bytes]:
        """Codes presented and not yet forgotten (for a status display)."""
        return [data for data, track in self._tracks.items() if track.presented]

    def reset(self) -> None:
        self._tracks.clear()
        self._last_position = None
