"""The decoder chain: a fast path first, then fallbacks while the per-frame time budget lasts.

Most frames either hold a readable code (the fast path finds it in about a millisecond) or hold no code at all.
Fallbacks (sharpening, other scales, contrast equalisation for low light and backlight, the second engine) are
tried only on a miss, most-rescues-per-ms first, and only while `budget_ms` is not spent: a step is skipped when
its measured cost would overrun the budget, so a slow PC drops fallbacks instead of falling behind the camera.

How hard to try depends on what the fast path saw. When it located a QR symbol that failed to decode (blur,
glare), every fallback is worth its time. When it located nothing, which is the case for the empty doorway most
of the day, only the few "blind" fallbacks that rescue codes the detector misses entirely are run: on the
entrance set that keeps nearly all rescues and cuts the cost of an empty 720p frame several-fold."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.decode.base import DecodedCode, DecoderEngine, DecoderUnavailable, as_gray

log = logging.getLogger(__name__)

Transform = Callable[[np.ndarray], tuple[np.ndarray, float]]  # gray -> (image, scale from original to image)


def _identity(gray: np.ndarray) -> tuple[np.ndarray, float]:
    return gray, 1.0


def _scaled(factor: float) -> Transform:
    def transform(gray: np.ndarray) -> tuple[np.ndarray, float]:
        interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
        return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interp), factor

    return transform


def _sharpen_double(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """2x upscale, then unsharp: small or motion-smeared modules get more pixels and their edges back."""
    big = cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_LINEAR)
    blurred = cv2.GaussianBlur(big, (0, 0), 2.0)
    return cv2.addWeighted(big, 3.0, blurred, -2.0, 0), 2.0


def _equalise(gray: np.ndarray) -> np.ndarray:
    # A CLAHE object per call (microseconds): a shared one would not be safe across decoding threads.
    return cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray)


def _adaptive(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Local mean threshold. Kept for experiments: on the entrance set it rescued nothing zxing's own
    LocalAverage binariser had not (so it is not in the default fallbacks)."""
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 5), 1.0


def _clahe(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Local contrast equalisation: lifts a dark code (low light) or a phone in front of a bright window."""
    return _equalise(gray), 1.0


def _clahe_half(gray: np.ndarray) -> tuple[np.ndarray, float]:
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return _equalise(small), 0.5


def _unsharp(sigma: float, amount: float) -> Transform:
    """Unsharp mask: gives blurred module edges (defocus, motion, small codes) their contrast back."""

    def transform(gray: np.ndarray) -> tuple[np.ndarray, float]:
        blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
        return cv2.addWeighted(gray, 1.0 + amount, blurred, -amount, 0), 1.0

    return transform


TRANSFORMS: dict[str, Transform] = {
    "full": _identity,
    "half": _scaled(0.5),
    "double": _scaled(2.0),
    "clahe": _clahe,
    "clahe_half": _clahe_half,
    "three_quarter": _scaled(0.75),
    "sharpen": _unsharp(2.0, 2.0),
    "sharpen_fine": _unsharp(1.0, 1.5),
    "sharpen_double": _sharpen_double,
    "adaptive": _adaptive,
}


@dataclass
class Step:
    """One attempt: an engine on a transformed image. `cost_ms` is a running estimate used for budgeting."""

    engine: DecoderEngine
    transform: str
    cost_ms: float

    @property
    def label(self) -> str:
        return self.engine.name if self.transform == "full" else f"{self.engine.name}/{self.transform}"


@dataclass
class ChainStats:
    """Counters for the benchmark and the status screen: how often each step ran and rescued a frame."""

    frames: int = 0
    fast_hits: int = 0
    fallback_hits: int = 0
    skipped_for_budget: int = 0
    blind_misses: int = 0  # fast-path misses where nothing QR-like was located: only the blind fallbacks ran


class DecoderChain:
    """`decode(frame)` -> every QR code in a BGR (or gray) frame, within about `budget_ms` of one core.

    `engines[0]` is the fast path. Fallback steps, in order, are `(engine_index, transform)` pairs; the default
    list is the one tuned by benchmarks/bench_decode.py. Not thread-safe: one chain per decoding thread."""

    def __init__(
        self,
        engines: Sequence[DecoderEngine],
        budget_ms: float = 25.0,
        *,
        fallbacks: Sequence[tuple[int, str]] | None = None,
        blind_fallbacks: Sequence[tuple[int, str]] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not engines:
            raise DecoderUnavailable("no decoding engine available")
        if budget_ms <= 0:
            raise ValueError("budget_ms must be positive")
        self.engines = list(engines)
        self.budget_ms = float(budget_ms)
        self._clock = clock
        self.stats = ChainStats()
        self.unavailable: dict[str, str] = {}  # engines asked for but not loaded -> why (set by make_chain)
        self.steps = [Step(self.engines[0], "full", 1.0)]
        self._blind: set[int] = set()  # indices of the steps run when the fast path located nothing
        chosen = default_fallbacks(len(self.engines)) if fallbacks is None else list(fallbacks)
        blind = set(DEFAULT_BLIND if blind_fallbacks is None else blind_fallbacks)
        for engine_index, transform in chosen:
            if engine_index >= len(self.engines):
                continue  # a step for an engine that did not load
            if transform not in TRANSFORMS:
                raise ValueError(f"unknown transform {transform!r}: use one of {sorted(TRANSFORMS)}")
            if (engine_index, transform) in blind:
                self._blind.add(len(self.steps))
            self.steps.append(Step(self.engines[engine_index], transform, _initial_cost(self.engines[engine_index])))

    @property
    def engine_names(self) -> list[str]:
        return [engine.name for engine in self.engines]

    def decode(self, frame: np.ndarray) -> list[DecodedCode]:
        """Every QR code found; [] when none. Never raises on odd input (empty, wrong dtype, tiny)."""
        start = self._clock()
        self.stats.frames += 1
        if frame is None or frame.size == 0 or frame.ndim not in (2, 3):
            return []
        gray = as_gray(frame)
        cache: dict[str, tuple[np.ndarray, float]] = {}
        codes, located = self._run(self.steps[0], gray, cache)
        if codes:
            self.stats.fast_hits += 1
            return _dedupe(codes)
        if not located:
            self.stats.blind_misses += 1
        for i, step in enumerate(self.steps[1:], start=1):
            if not located and i not in self._blind:
                continue
            elapsed_ms = (self._clock() - start) * 1000
            if elapsed_ms + step.cost_ms > self.budget_ms:
                self.stats.skipped_for_budget += 1
                # Let the estimate decay, so one unlucky (preempted) measurement does not bench a step for good.
                step.cost_ms *= 0.97
                continue  # a later, cheaper step may still fit
            codes, _ = self._run(step, gray, cache)
            if codes:
                self.stats.fallback_hits += 1
                return _dedupe(codes)
        return []

    def _run(
        self, step: Step, gray: np.ndarray, cache: dict[str, tuple[np.ndarray, float]]
    ) -> tuple[list[DecodedCode], bool]:
        """(codes, whether the engine located anything QR-like; True when it cannot tell)."""
        t0 = self._clock()
        if step.transform not in cache:
            cache[step.transform] = TRANSFORMS[step.transform](gray)
        image, scale = cache[step.transform]
        located = True
        try:
            detailed = getattr(step.engine, "decode_with_candidates", None)
            if detailed is not None:
                codes, located = detailed(image)
            else:
                codes = step.engine.decode(image)
        except Exception:  # noqa: BLE001 - one engine's bug must not stop the camera loop
            log.exception("decoder step %s failed", step.label)
            codes = []
        # Exponential moving average of what the step really costs on this machine and these frames.
        step.cost_ms = 0.8 * step.cost_ms + 0.2 * (self._clock() - t0) * 1000
        return [_rescaled(code, scale, step.label) for code in codes], located


# Fallbacks that rescue codes the fast path did not even locate (measured on the entrance set).
DEFAULT_BLIND: tuple[tuple[int, str], ...] = ((0, "sharpen"), (0, "double"), (0, "sharpen_double"))


def default_fallbacks(n_engines: int) -> list[tuple[int, str]]:
    """Fallback order measured on the entrance set: cheap rescues first, the slow second engine last."""
    steps = [(0, "sharpen"), (0, "sharpen_fine"), (0, "double"), (0, "sharpen_double"), (0, "clahe_half"), (0, "clahe")]
    if n_engines > 1:
        steps += [(1, "full")]
    return steps


def _initial_cost(engine: DecoderEngine) -> float:
    return 8.0 if engine.name.startswith("zbar") else 2.0


def _rescaled(code: DecodedCode, scale: float, label: str) -> DecodedCode:
    if scale == 1.0:
        points = code.points
    else:
        points = tuple((x / scale, y / scale) for x, y in code.points)
    return DecodedCode(code.data, points, label)


def _dedupe(codes: list[DecodedCode]) -> list[DecodedCode]:
    """One entry per distinct payload (several engines or steps may read the same code)."""
    seen: dict[bytes, DecodedCode] = {}
    for code in codes:
        seen.setdefault(code.data, code)
    return list(seen.values())
