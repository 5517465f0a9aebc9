"""zbar through the library pyzbar loads, in BINARY mode so that UTF-8 Vietnamese comes back byte-exact.

pyzbar 0.1.9 does not expose ZBAR_CFG_BINARY (zbar ≥ 0.23); in text mode zbar guesses an encoding and turns
UTF-8 names into Shift-JIS/Big5 mojibake (docs/formats.md). So this module re-does pyzbar's small decode() with the
binary option set on the scanner."""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np

from kiosk.decode.base import DecodedCode, DecoderUnavailable, clockwise_from_top_left

ZBAR_QRCODE = 64
ZBAR_NONE = 0
ZBAR_CFG_ENABLE = 0
ZBAR_CFG_BINARY = 4  # zbar.h ≥ 0.23: ENABLE, ADD_CHECK, EMIT_CHECK, ASCII, BINARY
_FOURCC_Y800 = 808466521  # 'Y800': 8-bit grayscale

MISSING_LIB = (
    "zbar engine unavailable: the zbar library is missing (Debian: apt-get install --no-install-recommends libzbar0)"
)


def _load_wrapper() -> Any:
    """pyzbar's ctypes wrapper; importing it loads libzbar (ImportError when the library is not installed)."""
    try:
        from pyzbar import wrapper  # pyzbar ships no type information: pyproject.toml lets mypy skip it
    except ImportError as exc:
        raise DecoderUnavailable(MISSING_LIB) from exc
    except OSError as exc:
        raise DecoderUnavailable(f"{MISSING_LIB}: {exc}") from exc
    return wrapper


class ZbarEngine:
    """zbar restricted to QR codes, binary mode. One scanner per engine, guarded by a lock (zbar is not re-entrant)."""

    def __init__(self, *, name: str = "zbar") -> None:
        self.name = name
        self._w = _load_wrapper()
        self._lock = threading.Lock()
        self._scanner = self._w.zbar_image_scanner_create()
        if not self._scanner:
            raise DecoderUnavailable("zbar engine unavailable: could not create a zbar scanner")
        self._configure()

    def _configure(self) -> None:
        w, s = self._w, self._scanner
        w.zbar_image_scanner_set_config(s, ZBAR_NONE, ZBAR_CFG_ENABLE, 0)  # all symbologies off ...
        w.zbar_image_scanner_set_config(s, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1)  # ... but QR
        if w.zbar_image_scanner_set_config(s, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1) != 0:
            self.close()
            raise DecoderUnavailable("zbar engine unavailable: this zbar has no binary mode (need libzbar0 >= 0.23)")

    def decode(self, gray: np.ndarray) -> list[DecodedCode]:
        """Every QR code in `gray`; [] on no code or unusable pixels."""
        if gray.ndim != 2 or gray.dtype != np.uint8 or min(gray.shape) < 21 or not self._scanner:
            return []
        buf = np.ascontiguousarray(gray)
        height, width = buf.shape
        w = self._w
        with self._lock:
            image = w.zbar_image_create()
            if not image:
                return []
            try:
                w.zbar_image_set_format(image, _FOURCC_Y800)
                w.zbar_image_set_size(image, width, height)
                w.zbar_image_set_data(image, buf.ctypes.data_as(ctypes.c_void_p), buf.size, None)
                if w.zbar_scan_image(self._scanner, image) <= 0:
                    return []
                return self._symbols(image)
            finally:
                w.zbar_image_destroy(image)

    def _symbols(self, image) -> list[DecodedCode]:  # type: ignore[no-untyped-def]
        w = self._w
        codes = []
        symbol = w.zbar_image_first_symbol(image)
        while symbol:
            if symbol.contents.type == ZBAR_QRCODE:
                data = ctypes.string_at(w.zbar_symbol_get_data(symbol), w.zbar_symbol_get_data_length(symbol))
                n = w.zbar_symbol_get_loc_size(symbol)
                pts = [(w.zbar_symbol_get_loc_x(symbol, i), w.zbar_symbol_get_loc_y(symbol, i)) for i in range(n)]
                if data:
                    codes.append(DecodedCode(data, clockwise_from_top_left(pts), self.name))
            symbol = w.zbar_symbol_next(symbol)
        return codes

    def close(self) -> None:
        if self._scanner:
            self._w.zbar_image_scanner_destroy(self._scanner)
            self._scanner = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: ctypes may be gone already
            pass
