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

from kiosk.decode import regions
from kiosk.decode.base import DecodedCode, DecoderEngine, DecoderUnavailable, as_gray
from kiosk.decode.transforms import ALL_TRANSFORMS, TRANSFORMS

__all__ = ["TRANSFORMS", "ChainStats", "DecoderChain", "Step", "default_fallbacks", "still_fallbacks"]

log = logging.getLogger(__name__)

MIN_SIDE_PX = 21  # a version-1 QR code is 21 modules wide
# Steps that look again at the symbols the fast path located but did not read, not at the whole frame.
REGION_STEPS: frozenset[str] = frozenset({"unbend"})
Located = list[regions.Quad]


@dataclass
class Step:
    """One attempt: an engine on a transformed image. `cost_ms` is a running estimate of what the step cost on
    an image of `area` pixels; the chain scales it to the image at hand (a 12-megapixel photo is not a frame)."""

    engine: DecoderEngine
    transform: str
    cost_ms: float
    area: float = 1280 * 720

    @property
    def label(self) -> str:
        return self.engine.name if self.transform == "full" else f"{self.engine.name}/{self.transform}"

    def estimate_ms(self, area: int) -> float:
        return self.cost_ms * area / self.area


@dataclass
class ChainStats:
    """Counters for the benchmark and the status screen: how often each step ran and rescued a frame."""

    frames: int = 0
    fast_hits: int = 0
    fallback_hits: int = 0
    skipped_for_budget: int = 0
    blind_misses: int = 0  # fast-path misses where nothing QR-like was located: only the blind fallbacks ran
    blind_skipped: int = 0  # such misses where the caller said nothing entered the frame: no fallback at all


class DecoderChain:
    """`decode(frame)` -> every QR code in a BGR (or gray) frame, within about `budget_ms` of one core.

    `engines[0]` is the fast path. Fallback steps, in order, are `(engine_index, transform)` pairs; the default
    list is the one tuned by benchmarks/bench_decode.py. `decode(frame, blind=False)` (`takes_blind`) skips the
    fallbacks that search for codes the fast path did not locate. With `exhaustive` (still images: nobody is waiting)
    every step runs while the budget lasts and everything read is returned. Not thread-safe: one chain per
    decoding thread."""

    def __init__(
        self,
        engines: Sequence[DecoderEngine],
        budget_ms: float = 25.0,
        *,
        fallbacks: Sequence[tuple[int, str]] | None = None,
        blind_fallbacks: Sequence[tuple[int, str]] | None = None,
        exhaustive: bool = False,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not engines:
            raise DecoderUnavailable("no decoding engine available")
        if budget_ms <= 0:
            raise ValueError("budget_ms must be positive")
        self.engines = list(engines)
        self.budget_ms = float(budget_ms)
        self.exhaustive = exhaustive
        self.takes_blind = True  # decode() accepts `blind` (a decoder a test or plug-in wraps may not)
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
            if transform not in ALL_TRANSFORMS and transform not in REGION_STEPS:
                known = sorted({*ALL_TRANSFORMS, *REGION_STEPS})
                raise ValueError(f"unknown transform {transform!r}: use one of {known}")
            if (engine_index, transform) in blind or exhaustive:
                self._blind.add(len(self.steps))
            self.steps.append(Step(self.engines[engine_index], transform, _initial_cost(self.engines[engine_index])))

    @property
    def engine_names(self) -> list[str]:
        return [engine.name for engine in self.engines]

    def decode(self, frame: np.ndarray, *, blind: bool = True) -> list[DecodedCode]:
        """Every QR code found; [] when none. Never raises on odd input (empty, wrong dtype, tiny).

        `blind=False` (the motion gate saw nothing enter the frame) skips the fallbacks that search for codes the
        fast path did not even locate; a located but unreadable symbol still gets every fallback."""
        start = self._clock()
        self.stats.frames += 1
        if frame is None or frame.ndim not in (2, 3) or min(frame.shape[:2]) < MIN_SIDE_PX:
            return []  # empty, odd, or smaller than the smallest QR code at one pixel per module
        gray = as_gray(frame)
        cache: dict[str, tuple[np.ndarray, float, float] | None] = {}
        found: list[DecodedCode] = []
        codes, located, failed = self._run(self.steps[0], gray, cache)
        _merge(found, codes)
        pending = located - len(found)  # symbols located but not read: what a fallback may still rescue
        if found and pending <= 0 and not self.exhaustive:
            self.stats.fast_hits += 1
            return found
        if not located and not found:
            self.stats.blind_misses += 1
            if not blind and not self.exhaustive:
                self.stats.blind_skipped += 1
                return []
        n_fast = len(found)
        for i, step in enumerate(self.steps[1:], start=1):
            if located <= 0 and i not in self._blind and not self.exhaustive:
                continue
            if self._over_budget(step, gray.size, start):
                continue  # a later, cheaper step may still fit
            if step.transform in REGION_STEPS:
                codes, step_located = self._run_unbend(step, gray, failed)
            else:
                codes, step_located, _ = self._run(step, gray, cache)
            new = _merge(found, codes)
            pending -= new
            if not self.exhaustive and found and (pending <= 0 or step_located <= len(codes)):
                break  # every symbol this step (or the fast path) located is read: nothing left to rescue
        if len(found) > n_fast:
            self.stats.fallback_hits += 1
        elif found:
            self.stats.fast_hits += 1
        return found

    def _over_budget(self, step: Step, area: int, start: float) -> bool:
        elapsed_ms = (self._clock() - start) * 1000
        if elapsed_ms + step.estimate_ms(area) <= self.budget_ms:
            return False
        self.stats.skipped_for_budget += 1
        # Let the estimate decay, so one unlucky (preempted) measurement does not bench a step for good.
        step.cost_ms *= 0.97
        return True

    def _run(
        self, step: Step, gray: np.ndarray, cache: dict[str, tuple[np.ndarray, float, float] | None]
    ) -> tuple[list[DecodedCode], int, Located]:
        """(codes, how many QR-like symbols the engine located, read or not (1 per code when it cannot tell),
        the quads of those located and not read, when the engine says)."""
        t0 = self._clock()
        if step.transform not in cache:
            try:
                cache[step.transform] = ALL_TRANSFORMS[step.transform](gray)
            except cv2.error:  # an image shape a transform cannot handle: that step has nothing to say
                log.warning("transform %s failed on a %dx%d image", step.transform, gray.shape[1], gray.shape[0])
                cache[step.transform] = None
        transformed = cache[step.transform]
        if transformed is None:  # the transform does not apply to an image of this size
            return [], 0, []
        image, scale, margin = transformed
        codes, failed = self._located(step, image)
        self._learn_cost(step, gray.size, t0)
        if scale != 1.0 or margin != 0.0:  # only the fast path's quads are used, and it sees the frame as it is
            failed = []
        return [_rescaled(code, scale, margin, step.label) for code in codes], len(codes) + len(failed), failed

    def _located(self, step: Step, image: np.ndarray) -> tuple[list[DecodedCode], Located]:
        """(codes, quads located and not read); an engine that cannot tell what it located reports none."""
        try:
            detailed = getattr(step.engine, "decode_located", None)
            if detailed is not None:
                codes, failed = detailed(image)
                return codes, failed
            counted = getattr(step.engine, "decode_counted", None)
            if counted is not None:
                codes, located = counted(image)
                return codes, [((0.0, 0.0),)] * max(0, located - len(codes))  # counted, no position
            return step.engine.decode(image), []
        except Exception:  # noqa: BLE001 - one engine's bug must not stop the camera loop
            log.exception("decoder step %s failed", step.label)
            return [], []

    def _run_unbend(self, step: Step, gray: np.ndarray, failed: Located) -> tuple[list[DecodedCode], int]:
        """The located, unread symbols resampled on grids that flatten a bent card (kiosk.decode.regions)."""
        t0 = self._clock()
        quads = [quad for quad in failed if len(quad) == 4]
        codes: list[DecodedCode] = []
        for view, mapped in regions.unbent_views(gray, quads):
            read, _ = self._located(step, view)
            codes += [DecodedCode(c.data, regions.to_frame(c.points, mapped), step.label, c.text) for c in read]
            if len({c.data for c in codes}) >= len(regions.distinct(quads)):
                break  # every symbol is read: no further view needed
        self._learn_cost(step, gray.size, t0)
        if not quads:  # an engine that only counts what it located gives no quads: nothing done, the chain goes on
            return codes, len(failed)
        return codes, max(len(regions.distinct(quads)), len(codes))

    def _learn_cost(self, step: Step, area: int, t0: float) -> None:
        # Exponential moving average of what the step really costs on this machine and these frames.
        step.cost_ms = 0.8 * step.estimate_ms(area) + 0.2 * (self._clock() - t0) * 1000
        step.area = float(area)


# Fallbacks that rescue codes the fast path did not even locate (measured on the entrance set).
DEFAULT_BLIND: tuple[tuple[int, str], ...] = (
    (0, "lift"),  # a dark frame only (free on any other): its code is too faint to be located
    (0, "pad"),
    (0, "sharpen"),
    (0, "double"),
    (0, "sharpen_double"),
    (0, "deblur"),
)


def default_fallbacks(n_engines: int) -> list[tuple[int, str]]:
    """Fallback order measured on the entrance set: cheap rescues first, the slow second engine last.

    `lift` is first: it applies to dark frames only, where none of the others read anything, and costs nothing
    on any other. zbar sees the frame softened (transforms._soften) before it sees it as it came: on the frames
    the chain missed, the softened copy read every code the raw one did, and screens besides; at 480p the
    budget is spent before the second of the two, at 720p before either."""
    steps = [
        (0, "lift"),
        (0, "pad"),
        (0, "sharpen"),
        (0, "sharpen_fine"),
        (0, "unbend"),
        (0, "double"),
        (0, "sharpen_double"),
        (0, "deblur"),
        (0, "smooth_half"),
        (0, "clahe_half"),
        (0, "clahe"),
    ]
    if n_engines > 1:
        steps += [(1, "soften"), (1, "full")]
    return steps


def still_fallbacks(n_engines: int, global_binarizer: int | None = None) -> list[tuple[int, str]]:
    """Still photos of any size: first the photo seen at camera sizes, then every frame fallback, then zbar.

    `global_binarizer`: the index of a zxing-cpp engine with the GlobalHistogram binariser, run on the photo and
    its half. On the real photos it reads codes with textured modules (a picture inside the code) that the
    LocalAverage binariser splits into noise, at full size and at 1280 px, and nothing on the photos without
    a code (docs/benchmarks.md)."""
    steps = [(0, "fit1280"), (0, "fit640"), *default_fallbacks(1), (0, "half")]
    if global_binarizer is not None:
        steps += [(global_binarizer, "full"), (global_binarizer, "half")]
    if n_engines > 1:
        steps += [(1, "full"), (1, "fit1280")]
    return steps


def _initial_cost(engine: DecoderEngine) -> float:
    return 8.0 if engine.name.startswith("zbar") else 2.0


def _merge(found: list[DecodedCode], codes: list[DecodedCode]) -> int:
    """Adds the codes not found yet; how many. Several steps or engines read the same code at the same place;
    the same payload at another place is another code (a sheet of identical cards, one card's copies)."""
    new = 0
    for code in codes:
        if not any(_same_code(code, other) for other in found):
            found.append(code)
            new += 1
    return new


def _same_code(a: DecodedCode, b: DecodedCode) -> bool:
    """Same bytes, and centres less than half the larger code's side apart (two codes side by side are at
    least a side apart); a code without corners is the same as any other with its bytes."""
    if a.data != b.data:
        return False
    if not a.points or not b.points:
        return True
    (ax, ay), a_side = _centre_side(a.points)
    (bx, by), b_side = _centre_side(b.points)
    return max(abs(ax - bx), abs(ay - by)) <= 0.5 * max(a_side, b_side, 1.0)


def _centre_side(points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], float]:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return (sum(xs) / len(xs), sum(ys) / len(ys)), max(max(xs) - min(xs), max(ys) - min(ys))


def _rescaled(code: DecodedCode, scale: float, margin: float, label: str) -> DecodedCode:
    if scale == 1.0 and margin == 0.0:
        points = code.points
    else:
        points = tuple(((x - margin) / scale, (y - margin) / scale) for x, y in code.points)
    return DecodedCode(code.data, points, label, code.text)
