"""From per-frame decodes to presentations: a code shown to the camera counts once.

A code becomes a presentation when the same bytes are read on `min_frames` consecutive processed frames
(one stray read of a half-visible code is not a scan). While it stays in view, or drops out of a few frames
because of glare or motion, it is not presented again; only after it has been out of sight for longer than
`forget_after_s` can it be presented again (the rules' cooldown then decides whether that is a duplicate).
Feed every processed frame, including frames with no code: a miss is what breaks a streak.

Several codes in one frame (a parent with the children's cards) are tracked independently: each becomes one
presentation. A code that stays at the same place for `fixture_after_s` (a poster on the wall behind the
visitors; a hand-held phone always moves) becomes a fixture: it was presented once, when it first came into
view, and is never presented again while it is seen at that place, even after visitors hid it for minutes."""

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
    anchor: tuple[float, float] = (0.0, 0.0)  # where the code has been since `anchored_since`
    anchored_since: float = 0.0


MAX_FIXTURES = 64


def _centre_and_size(code: DecodedCode) -> tuple[tuple[float, float], float]:
    if not code.points:
        return (0.0, 0.0), 0.0
    xs, ys = [p[0] for p in code.points], [p[1] for p in code.points]
    return (sum(xs) / len(xs), sum(ys) / len(ys)), max(max(xs) - min(xs), max(ys) - min(ys))


def _near(a: tuple[float, float], b: tuple[float, float], tolerance: float) -> bool:
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


class Stabilizer:
    """`update(codes, position)` -> the codes that became a presentation on this frame (usually [])."""

    def __init__(self, min_frames: int = 3, forget_after_s: float = 2.0, fixture_after_s: float = 20.0) -> None:
        if min_frames < 1:
            raise ValueError("min_frames must be at least 1")
        if forget_after_s <= 0:
            raise ValueError("forget_after_s must be positive")
        self.min_frames = min_frames
        self.forget_after_s = forget_after_s
        self.fixture_after_s = fixture_after_s
        self._tracks: dict[bytes, _Track] = {}
        self._fixtures: dict[bytes, tuple[float, float]] = {}  # payload -> where it hangs
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
            centre, size = _centre_and_size(code)
            tolerance = max(3.0, 0.08 * size)  # corners read on a scaled copy wobble by a pixel or two
            track = self._tracks.get(data)
            if track is None or position - track.last_seen > self.forget_after_s:
                fixture = self._fixtures.get(data)
                known = fixture is not None and _near(fixture, centre, tolerance)  # the poster, seen again
                track = self._tracks[data] = _Track(0, position, known, centre, position)
            track.streak += 1
            track.last_seen = position
            self._note_place(data, track, centre, tolerance, position)
            if not track.presented and track.streak >= self.min_frames:
                track.presented = True
                presented.append(code)
        return presented

    def _note_place(
        self, data: bytes, track: _Track, centre: tuple[float, float], tolerance: float, position: float
    ) -> None:
        if not _near(track.anchor, centre, tolerance):
            track.anchor, track.anchored_since = centre, position  # it moved: a hand holds it
        elif position - track.anchored_since >= self.fixture_after_s and data not in self._fixtures:
            if len(self._fixtures) >= MAX_FIXTURES:
                self._fixtures.pop(next(iter(self._fixtures)))
            self._fixtures[data] = track.anchor

    def fixtures(self) -> list[bytes]:
        """Codes recognised as fixed to the scene (posters): never presented again at their place."""
        return list(self._fixtures)

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
        self._fixtures.clear()
        self._last_position = None
