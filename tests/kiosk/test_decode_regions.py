"""The chain's second looks: a bent card read by flattening its bend (kiosk.decode.regions), and a defocused code
read by deconvolution; neither reads anything on frames without a code. Real codes made with `qrcode`."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from kiosk.decode import make_chain
from kiosk.decode.chain import DecoderChain
from kiosk.decode.regions import distinct, unbent_views
from kiosk.decode.zxing_engine import ZxingEngine
from kiosk.demo import make_cccd_payload
from kiosk.sources import scene

AT = (60, 40)  # where the card's top-left corner goes in the frame (x, y)


def _payload(seed: int = 3) -> bytes:
    return make_cccd_payload(random.Random(seed)).encode()


def _bent_frame(payload: bytes, wrap: float, bow: float, *, module_px: int = 5) -> tuple[np.ndarray, tuple[int, int]]:
    """A gray 640x480 frame with a card bent on a cylinder (columns crowd to the edges, rows bow by `bow` of the
    card's height at its edges); returns the frame and the card's size."""
    card = cv2.copyMakeBorder(scene.qr_image(payload, module_px), 10, 10, 10, 10, cv2.BORDER_CONSTANT, value=255)
    h, w = card.shape
    across = np.linspace(-1, 1, w, dtype=np.float32)
    on_card = np.arcsin(np.clip(across * np.sin(wrap), -1, 1)) / wrap
    map_x = np.tile(((on_card + 1) / 2 * (w - 1))[None, :], (h, 1)).astype(np.float32)
    lift = (bow * h * (1 - np.cos(on_card * wrap)) / (1 - np.cos(wrap)))[None, :]
    map_y = (np.arange(h, dtype=np.float32)[:, None] - lift).astype(np.float32)
    bent = cv2.remap(card, map_x, map_y, cv2.INTER_LINEAR, borderValue=255)
    frame = np.full((480, 640), 200, np.uint8)
    frame[AT[1] : AT[1] + h, AT[0] : AT[0] + w] = bent
    return cv2.GaussianBlur(frame, (0, 0), 0.6), (w, h)


def _fast() -> ZxingEngine:
    return ZxingEngine(try_downscale=True, try_invert=True)


@pytest.mark.parametrize("bow", [0.03, -0.03, 0.04])
@pytest.mark.parametrize("transposed", [False, True])
def test_a_bent_card_zxing_locates_but_cannot_read_is_read_by_unbending(bow: float, transposed: bool) -> None:
    payload = _payload()
    frame, (w, h) = _bent_frame(payload, 0.4, bow)
    x0, y0 = AT
    if transposed:  # the bend along the code's other axis
        frame = np.ascontiguousarray(frame.T)
        (x0, y0), (w, h) = (y0, x0), (h, w)
    codes, failed = _fast().decode_located(frame)
    assert not codes and failed, "zxing-cpp alone should locate this card and fail to read it"
    read = make_chain(["zxing"], budget_ms=1000).decode(frame)
    assert [code.data for code in read] == [payload]
    assert read[0].engine == "zxing/unbend"
    for x, y in read[0].points:  # corners in the frame's pixels, on the card
        assert x0 - 3 <= x <= x0 + w + 3 and y0 - 3 <= y <= y0 + h + 3, read[0].points


def test_an_unbent_card_needs_no_second_look() -> None:
    frame, _ = _bent_frame(_payload(), 0.3, 0.0)
    chain = make_chain(["zxing"], budget_ms=1000)
    (code,) = chain.decode(frame)
    assert code.engine == "zxing"


def test_unbend_runs_only_on_symbols_the_fast_path_located() -> None:
    """On a frame with nothing located the step has no quad to look at: it costs nothing and reads nothing."""
    chain = DecoderChain([_fast()], budget_ms=1000, fallbacks=[(0, "unbend")], blind_fallbacks=[(0, "unbend")])
    empty = np.full((480, 640), 180, np.uint8)
    assert chain.decode(empty) == []
    assert unbent_views(empty, []) == []


def test_distinct_keeps_the_largest_quad_of_each_symbol() -> None:
    big = ((100.0, 100.0), (300.0, 100.0), (300.0, 300.0), (100.0, 300.0))
    inner = ((120.0, 220.0), (180.0, 220.0), (180.0, 280.0), (120.0, 280.0))  # a sub-candidate inside it
    other = ((400.0, 100.0), (500.0, 100.0), (500.0, 200.0), (400.0, 200.0))
    assert distinct([inner, big, other]) == [big, other]


def test_views_of_a_quad_are_bounded_in_size() -> None:
    gray = np.zeros((4000, 4000), np.uint8)
    huge = ((0.0, 0.0), (3999.0, 0.0), (3999.0, 3999.0), (0.0, 3999.0))
    tiny = ((10.0, 10.0), (20.0, 10.0), (20.0, 20.0), (10.0, 20.0))
    views = unbent_views(gray, [huge])
    assert views and all(view.shape[0] <= 360 for view, _ in views)
    assert unbent_views(gray, [tiny]) == []


def test_a_defocused_code_is_read_by_deconvolution_and_not_by_zxing_alone() -> None:
    payload = _payload(5)
    frame = np.full((480, 640), 210, np.uint8)
    qr = scene.qr_image(payload, 4)
    frame[60 : 60 + qr.shape[0], 80 : 80 + qr.shape[1]] = qr
    blurred = cv2.GaussianBlur(frame, (0, 0), 2.3)
    assert _fast().decode(blurred) == [], "zxing-cpp alone should not read this defocused code"
    chain = DecoderChain([_fast()], budget_ms=1000, fallbacks=[(0, "deblur")])
    (code,) = chain.decode(blurred)
    assert code.data == payload and code.engine == "zxing/deblur"


def test_no_second_look_reads_a_located_symbol_that_holds_no_code() -> None:
    """A real code with a third of its modules scrambled: zxing-cpp locates it and fails its error correction;
    every view of it (and every other fallback) must still read nothing."""
    module = 6
    qr = scene.qr_image(_payload(7), module)
    rng = np.random.default_rng(0)
    quiet, n = 4 * module, qr.shape[0] - 8 * module
    rows = slice(quiet + 9 * module, quiet + n - 9 * module)
    noise = rng.random((qr[rows].shape[0] // module, n // module)) < 0.5
    qr[rows, quiet : quiet + n] = np.kron(np.where(noise, 0, 255), np.ones((module, module))).astype(np.uint8)
    frame = np.full((480, 640), 230, np.uint8)
    frame[60 : 60 + qr.shape[0], 150 : 150 + qr.shape[1]] = qr
    for blur in (0.0, 1.0):
        image = cv2.GaussianBlur(frame, (0, 0), blur) if blur else frame
        codes, failed = _fast().decode_located(image)
        assert not codes and failed, "zxing-cpp should locate the scrambled symbol and fail to read it"
        assert unbent_views(image, failed)
        assert make_chain(["zxing", "zbar"], budget_ms=1000).decode(image) == []
