"""The motion gate: an unchanged frame is not decoded again, so an empty doorway costs almost nothing.

Each frame is reduced to a small grey thumbnail (every 4th pixel of the green channel, then averaged down to
about 80×45 cells; ~0.05 ms for a 720p frame, no copy of the frame itself). Averaging 16 samples per cell
brings sensor noise far below the threshold, so only a real change of the scene moves a cell.

- A frame whose thumbnail differs from the last decoded frame's in at least `min_changed_cells` cells is
  decoded, and so are the `settle_frames` frames after it (a phone coming to rest, autofocus settling).
- Otherwise it is not decoded; the caller reuses what the last decoded frame showed (a code held perfectly
  still is still in view). Every `refresh_s` a frame is decoded anyway, so slow drift is never missed for long.
- `entered` says whether the frame differs from the empty scene (a slowly learnt background): only then are
  the decoder's blind fallbacks, which search for codes the fast path did not locate, worth their cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

THUMB_STRIDE = 4  # pixels skipped before averaging: a 720p frame gives 320×180 samples
THUMB_CELL = 4  # samples averaged per cell side: 16 samples per cell


@dataclass(frozen=True)
class GateVerdict:
    decode: bool  # run the decoder on this frame
    entered: bool  # something that is not the empty scene is in view: blind fallbacks may run
    changed_cells: int  # cells that differ from the last decoded frame


def thumbnail(image: np.ndarray) -> np.ndarray:
    """A small float32 grey image of the frame (green channel for colour frames: it carries most luminance)."""
    channel = image[::THUMB_STRIDE, ::THUMB_STRIDE, 1] if image.ndim == 3 else image[::THUMB_STRIDE, ::THUMB_STRIDE]
    samples = np.ascontiguousarray(channel)
    height, width = samples.shape[:2]
    size = (max(1, width // THUMB_CELL), max(1, height // THUMB_CELL))
    return cv2.resize(samples, size, interpolation=cv2.INTER_AREA).astype(np.float32)


class MotionGate:
    """`check(image, position)` -> GateVerdict. One gate per frame stream; not thread-safe."""

    def __init__(
        self,
        *,
        cell_threshold: float = 8.0,
        min_changed_cells: int = 3,
        settle_frames: int = 3,
        refresh_s: float = 1.0,
        background_rate: float = 0.02,
    ) -> None:
        self.cell_threshold = cell_threshold
        self.min_changed_cells = min_changed_cells
        self.settle_frames = settle_frames
        self.refresh_s = refresh_s
        self.background_rate = background_rate
        self._reference: np.ndarray | None = None  # thumbnail of the last decoded frame
        self._background: np.ndarray | None = None  # the empty scene, learnt on frames that do not change
        self._last_decode = 0.0
        self._settle = 0
        self.decoded = 0
        self.skipped = 0

    def check(self, image: np.ndarray, position: float) -> GateVerdict:
        thumb = thumbnail(image)
        reference = self._reference
        if reference is None or reference.shape != thumb.shape or position < self._last_decode:
            self._reset(thumb)
            return self._decode(thumb, position, entered=True, changed=thumb.size)
        changed = int(np.count_nonzero(np.abs(thumb - reference) > self.cell_threshold))
        if changed >= self.min_changed_cells:
            self._settle = self.settle_frames
            return self._decode(thumb, position, entered=self._entered(thumb), changed=changed)
        self._learn_background(thumb)
        if self._settle > 0 or position - self._last_decode >= self.refresh_s:
            self._settle = max(0, self._settle - 1)
            return self._decode(thumb, position, entered=self._entered(thumb), changed=changed)
        self.skipped += 1
        return GateVerdict(False, False, changed)

    def _decode(self, thumb: np.ndarray, position: float, *, entered: bool, changed: int) -> GateVerdict:
        self._reference, self._last_decode = thumb, position
        self.decoded += 1
        return GateVerdict(True, entered, changed)

    def _entered(self, thumb: np.ndarray) -> bool:
        if self._background is None:
            return True
        differs = np.count_nonzero(np.abs(thumb - self._background) > self.cell_threshold)
        return int(differs) >= self.min_changed_cells

    def _learn_background(self, thumb: np.ndarray) -> None:
        # Only still frames teach the background: a visitor walking through never becomes part of it, one who
        # stands still for many seconds slowly does (and the blind fallbacks then rest too).
        if self._background is None:
            self._background = thumb.copy()
        else:
            cv2.accumulateWeighted(thumb, self._background, self.background_rate)

    def _reset(self, thumb: np.ndarray) -> None:
        self._background = thumb.copy()
        self._settle = self.settle_frames
