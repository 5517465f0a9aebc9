"""zxing-cpp: the fast path. QR only (8× faster than all formats), raw bytes, never text."""

from __future__ import annotations

import numpy as np

from kiosk.decode.base import DecodedCode, DecoderUnavailable


class ZxingEngine:
    """One configuration of zxing-cpp. The chain uses several (fast, thorough) as separate steps.

    `try_downscale` lets zxing also look at smaller copies (helps big or blurry codes, costs time);
    `binarizer` is "local" (LocalAverage, the default, good under uneven light) or "global" (GlobalHistogram)."""

    def __init__(
        self,
        *,
        name: str = "zxing",
        try_downscale: bool = False,
        try_invert: bool = False,
        binarizer: str = "local",
    ) -> None:
        try:
            import zxingcpp
        except ImportError as exc:  # pragma: no cover - the wheel is an install requirement
            raise DecoderUnavailable("zxing engine unavailable: pip install zxing-cpp") from exc
        self._zx = zxingcpp
        self.name = name
        binarizers = {"local": zxingcpp.Binarizer.LocalAverage, "global": zxingcpp.Binarizer.GlobalHistogram}
        if binarizer not in binarizers:
            raise ValueError(f"unknown zxing binarizer {binarizer!r}: use one of {sorted(binarizers)}")
        self._options = dict(
            formats=zxingcpp.BarcodeFormat.QRCode,
            try_rotate=False,  # QR detection is rotation-invariant; this only matters for linear codes
            try_downscale=try_downscale,
            try_invert=try_invert,
            binarizer=binarizers[binarizer],
            text_mode=zxingcpp.TextMode.Plain,
        )

    def decode(self, gray: np.ndarray) -> list[DecodedCode]:
        """Every valid QR code in `gray`; [] on no code or unusable pixels."""
        return self.decode_with_candidates(gray)[0]

    def decode_with_candidates(self, gray: np.ndarray) -> tuple[list[DecodedCode], bool]:
        """(valid codes, whether anything QR-like was found at all, readable or not).

        The chain uses the second value to decide how hard to try: a symbol that was located but failed its
        error correction is worth every fallback; a frame where nothing was located gets only the cheap ones."""
        if gray.ndim != 2 or gray.size == 0 or min(gray.shape) < 21:
            return [], False
        try:
            results = self._zx.read_barcodes(np.ascontiguousarray(gray), return_errors=True, **self._options)
        except (ValueError, RuntimeError):
            return [], False
        codes = []
        for result in results:
            data = bytes(result.bytes)
            if not result.valid or not data:
                continue
            pos = result.position
            corners = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
            codes.append(DecodedCode(data, tuple((float(p.x), float(p.y)) for p in corners), self.name))
        return codes, bool(results)
