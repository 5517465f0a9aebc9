"""The built-in demo source: invented visitors hold up phones with CCCD QR codes in front of the kiosk.

Each visit: the phone comes up from below (0.5 s), holds still about 1.5 s with a little hand shake, leaves
(0.5 s), then the doorway is empty for a second. Most visitors are new; some come back later (an exit), some
show their code twice in a row (a duplicate), some show a malformed code. Drawn at run time, no assets."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import kiosk.sources.scene as scene
from kiosk.demo import DemoPerson, make_malformed_payload, make_person
from kiosk.sources.base import Frame, SourceState

ENTER_S, HOLD_S, LEAVE_S, GAP_S = 0.5, 1.5, 0.5, 1.0
VISIT_S = ENTER_S + HOLD_S + LEAVE_S + GAP_S


@dataclass(frozen=True)
class Visit:
    """One visitor's appearance: `start` is when the phone starts coming up (source seconds)."""

    start: float
    payload: str
    kind: str  # "new", "return" (came back later: an exit), "again" (same code right away), "malformed"
    person: DemoPerson | None

    @property
    def hold(self) -> tuple[float, float]:
        """When the phone is held still in front of the camera."""
        return self.start + ENTER_S, self.start + ENTER_S + HOLD_S

    @property
    def end(self) -> float:
        return self.start + ENTER_S + HOLD_S + LEAVE_S


class DemoSource:
    """Endless (or `visitors`-long) demo scene at `fps`.

    realtime=True: paced like a camera (frames follow the wall clock; a slow reader skips frames), is_file False.
    realtime=False: every frame, as fast as read, position = index / fps, is_file True (deterministic tests)."""

    def __init__(
        self,
        seed: int = 0,
        *,
        realtime: bool = True,
        fps: float = 15.0,
        size: tuple[int, int] = (1280, 720),
        visitors: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.is_file = not realtime
        self.fps, self.size, self.visitors = fps, size, visitors
        self._realtime, self._clock, self._sleep = realtime, clock, sleep
        self._rng = random.Random(seed)
        self._background = scene.background(size[0], size[1], seed)
        self._visits: list[Visit] = []
        self._people: list[DemoPerson] = []
        self._sprites: dict[str, tuple[np.ndarray, np.ndarray, scene.Quad]] = {}
        self._index = 0
        self._start: float | None = None
        self._state = SourceState.OK

    @property
    def state(self) -> SourceState:
        return self._state

    def visit(self, n: int) -> Visit:
        """The n-th visit (0-based); generated on demand, the same for the same seed."""
        while len(self._visits) <= n:
            self._visits.append(self._new_visit(len(self._visits)))
        return self._visits[n]

    def visits_until(self, position: float) -> list[Visit]:
        """Every visit that started before `position` seconds: what a test expects to have been scanned."""
        return [self.visit(i) for i in range(int(position // VISIT_S) + 1) if self.visit(i).start < position]

    def read(self) -> Frame | None:
        if self._state is SourceState.ENDED:
            return None
        index = self._next_index()
        position = index / self.fps
        if self.visitors is not None and position >= self.visitors * VISIT_S:
            self._state = SourceState.ENDED
            return None
        self._index = index + 1
        return Frame(self.render(position), index, position)

    def _next_index(self) -> int:
        if not self._realtime:
            return self._index
        now = self._clock()
        if self._start is None:
            self._start = now
        due = self._start + self._index / self.fps
        if now < due:
            self._sleep(due - now)
            return self._index
        return max(self._index, int((now - self._start) * self.fps))  # a slow reader skips frames, like a camera

    def render(self, position: float) -> np.ndarray:
        """The scene at `position` seconds: the background, and the current visitor's phone if one is up."""
        frame = self._background.copy()
        visit = self.visit(int(position // VISIT_S))
        t = position - visit.start
        if t >= ENTER_S + HOLD_S + LEAVE_S:
            return frame
        sprite, mask, _ = self._sprite(visit.payload)
        width, height = self.size
        rest_y = height * 0.5
        if t < ENTER_S:
            y = height + sprite.shape[0] * 0.6 - (height + sprite.shape[0] * 0.6 - rest_y) * (t / ENTER_S)
        elif t < ENTER_S + HOLD_S:
            y = rest_y
        else:
            y = rest_y + (height + sprite.shape[0] * 0.6 - rest_y) * ((t - ENTER_S - HOLD_S) / LEAVE_S)
        shake = np.sin(position * 7.0) * 3.0  # a hand is never quite still
        center = (width * 0.5 + shake + (visit.start % 7 - 3) * width * 0.02, y + shake * 0.5)
        quad = scene.place_quad(
            center, sprite.shape[1], sprite.shape[0], rotate_deg=shake, tilt_x_deg=8 * np.sin(visit.start)
        )
        scene.paste(frame, sprite, mask, quad)
        return frame

    def _sprite(self, payload: str) -> tuple[np.ndarray, np.ndarray, scene.Quad]:
        if payload not in self._sprites:
            if len(self._sprites) > 16:
                self._sprites.clear()
            module_px = max(2, round(4 * self.size[1] / 720))
            self._sprites[payload] = scene.phone_sprite(scene.qr_image(payload, module_px))
        return self._sprites[payload]

    def _new_visit(self, n: int) -> Visit:
        rng, start = self._rng, n * VISIT_S
        roll = rng.random()
        if n >= 2 and roll < 0.12 and self._visits[-1].person is not None:
            last = self._visits[-1]
            return Visit(start, last.payload, "again", last.person)
        if n >= 3 and roll < 0.35 and self._people:
            person = rng.choice(self._people)
            return Visit(start, person.payload, "return", person)
        if n >= 1 and roll > 0.88:
            return Visit(start, make_malformed_payload(rng), "malformed", None)
        person = make_person(rng)
        self._people.append(person)
        return Visit(start, person.payload, "new", person)

    def close(self) -> None:
        self._state = SourceState.ENDED
