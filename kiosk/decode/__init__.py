"""QR decoding: engines (zxing-cpp, zbar) and the budgeted chain that combines them.

`make_chain(["zxing", "zbar"], budget_ms=25)` is what the pipeline uses; `available_engines()` says which
engines load on this machine (the status screen shows it)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from kiosk.decode.base import DecodedCode, DecoderEngine, DecoderUnavailable
from kiosk.decode.chain import DecoderChain

log = logging.getLogger(__name__)

__all__ = [
    "DecodedCode",
    "DecoderChain",
    "DecoderEngine",
    "DecoderUnavailable",
    "ENGINE_NAMES",
    "available_engines",
    "create_engine",
    "make_chain",
    "make_still_chain",
]


def _zxing() -> DecoderEngine:
    from kiosk.decode.zxing_engine import ZxingEngine

    return ZxingEngine(try_downscale=True, try_invert=True)  # the library's defaults: see zxing_engine


def _zbar() -> DecoderEngine:
    from kiosk.decode.zbar_engine import ZbarEngine

    return ZbarEngine()


_FACTORIES: dict[str, Callable[[], DecoderEngine]] = {"zxing": _zxing, "zbar": _zbar}
ENGINE_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def create_engine(name: str) -> DecoderEngine:
    """One engine by name; DecoderUnavailable (naming what to install) when its library is missing."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown decoder engine {name!r}: use one of {', '.join(ENGINE_NAMES)}")
    return _FACTORIES[name]()


def available_engines() -> dict[str, str | None]:
    """Every known engine -> None when it loads here, else the one-line reason it does not."""
    status: dict[str, str | None] = {}
    for name in ENGINE_NAMES:
        try:
            create_engine(name)
            status[name] = None
        except DecoderUnavailable as exc:
            status[name] = str(exc)
    return status


def make_chain(
    engine_names: Sequence[str] = ("zxing", "zbar"), budget_ms: float = 25.0, *, strict: bool = False
) -> DecoderChain:
    """A chain over the named engines, in that order (the first is the fast path).

    An engine whose library is missing is left out with a warning (or raises when `strict`); the chain's
    `unavailable` maps it to the reason. DecoderUnavailable when no engine loads at all."""
    engines: list[DecoderEngine] = []
    unavailable: dict[str, str] = {}
    for name in engine_names:
        try:
            engines.append(create_engine(name))
        except DecoderUnavailable as exc:
            if strict:
                raise
            log.warning("%s", exc)
            unavailable[name] = str(exc)
    if not engines:
        raise DecoderUnavailable("no decoding engine could be loaded: " + "; ".join(unavailable.values()))
    chain = DecoderChain(engines, budget_ms)
    chain.unavailable = unavailable
    return chain


STILL_BUDGET_MS = 4000.0  # a photo handed to `kiosk decode` or a folder source: nobody waits at a door


def make_still_chain(
    engine_names: Sequence[str] = ("zxing", "zbar"), budget_ms: float = STILL_BUDGET_MS
) -> DecoderChain:
    """The chain for still images of any size: every step runs (the photo seen at camera sizes, every frame
    fallback, zxing-cpp's other binariser, zbar) while the budget lasts, and every code read by any of them is
    returned (the same payload at two places is two codes)."""
    from kiosk.decode.chain import still_fallbacks

    base = make_chain(engine_names, budget_ms)
    engines = list(base.engines)
    global_index = None
    if engines[0].name == "zxing":
        from kiosk.decode.zxing_engine import ZxingEngine

        global_index = len(engines)
        engines.append(ZxingEngine(name="zxing-global", try_downscale=True, try_invert=True, binarizer="global"))
    fallbacks = still_fallbacks(len(base.engines), global_index)
    chain = DecoderChain(engines, budget_ms, fallbacks=fallbacks, exhaustive=True)
    chain.unavailable = base.unavailable
    return chain
