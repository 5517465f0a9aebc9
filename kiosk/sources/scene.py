"""Drawing helpers for synthetic frames: a QR code on a phone held in front of a camera.

Shared by the demo source and the decode benchmark's entrance set; everything is drawn at run time from
`qrcode`, no binary assets."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
import qrcode
from qrcode.constants import ERROR_CORRECT_M

Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


@lru_cache(maxsize=128)
def qr_modules(payload: bytes) -> np.ndarray:
    """The QR's module matrix (True = dark) with a 4-module quiet zone, error correction M."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=1)
    code.add_data(payload)
    code.make(fit=True)
    return np.array(code.get_matrix(), dtype=bool)


def qr_image(payload: bytes | str, module_px: int = 4) -> np.ndarray:
    """A grayscale QR image (quiet zone included), `module_px` pixels per module."""
    data = payload.encode() if isinstance(payload, str) else payload
    modules = qr_modules(data)
    gray = np.where(modules, 0, 255).astype(np.uint8)
    return np.kron(gray, np.ones((module_px, module_px), dtype=np.uint8))


def qr_corners_in_image(payload: bytes | str, module_px: int) -> Quad:
    """Corners of the code proper (inside the quiet zone) in `qr_image(payload, module_px)` coordinates."""
    data = payload.encode() if isinstance(payload, str) else payload
    n = qr_modules(data).shape[0]
    a, b = 4.0 * module_px, (n - 4.0) * module_px
    return ((a, a), (b, a), (b, b), (a, b))


def phone_sprite(qr_gray: np.ndarray, *, screen_brightness: int = 255) -> tuple[np.ndarray, np.ndarray, Quad]:
    """A phone (dark body, light screen) showing `qr_gray`: (BGR sprite, 0/255 mask, QR image corners in it)."""
    qh, qw = qr_gray.shape
    pad_x, pad_top, pad_bottom, bezel = qw // 6, qh // 3, qh // 2, max(6, qw // 20)
    sw, sh = qw + 2 * pad_x, qh + pad_top + pad_bottom
    h, w = sh + 2 * bezel, sw + 2 * bezel
    sprite = np.zeros((h, w, 3), np.uint8)
    sprite[:] = (40, 35, 30)
    screen = np.full((sh, sw), screen_brightness, np.uint8)
    scaled = (qr_gray.astype(np.uint16) * screen_brightness // 255).astype(np.uint8)
    screen[pad_top : pad_top + qh, pad_x : pad_x + qw] = scaled
    cv2.rectangle(screen, (pad_x, pad_top // 4), (sw - pad_x, pad_top // 4 + max(4, pad_top // 5)), 90, -1)
    sprite[bezel : bezel + sh, bezel : bezel + sw] = screen[:, :, None]
    mask = np.zeros((h, w), np.uint8)
    radius = max(4, w // 10)
    cv2.rectangle(mask, (radius, 0), (w - radius, h - 1), 255, -1)
    cv2.rectangle(mask, (0, radius), (w - 1, h - radius), 255, -1)
    for cx, cy in (
        (radius, radius),
        (w - radius - 1, radius),
        (radius, h - radius - 1),
        (w - radius - 1, h - radius - 1),
    ):
        cv2.circle(mask, (cx, cy), radius, 255, -1)
    ox, oy = float(bezel + pad_x), float(bezel + pad_top)
    return sprite, mask, ((ox, oy), (ox + qw, oy), (ox + qw, oy + qh), (ox, oy + qh))


def place_quad(
    center: tuple[float, float],
    width: float,
    height: float,
    *,
    rotate_deg: float = 0.0,
    tilt_x_deg: float = 0.0,
    tilt_y_deg: float = 0.0,
) -> Quad:
    """Where a w×h card centred at `center` lands after an in-plane rotation and an out-of-plane tilt.

    The tilt is a simple perspective: the far edge shrinks by cos(tilt) and the near edge grows a little."""
    hw, hh = width / 2, height / 2
    ty, tx = np.radians(tilt_x_deg), np.radians(tilt_y_deg)
    # tilt about the horizontal axis: top edge narrower than the bottom edge (or the reverse)
    top_scale, bottom_scale = 1 - 0.5 * np.sin(ty), 1 + 0.5 * np.sin(ty)
    left_scale, right_scale = 1 - 0.5 * np.sin(tx), 1 + 0.5 * np.sin(tx)
    hh_eff, hw_eff = hh * np.cos(ty), hw * np.cos(tx)
    corners = np.array(
        [
            (-hw_eff * top_scale, -hh_eff * left_scale),
            (hw_eff * top_scale, -hh_eff * right_scale),
            (hw_eff * bottom_scale, hh_eff * right_scale),
            (-hw_eff * bottom_scale, hh_eff * left_scale),
        ]
    )
    a = np.radians(rotate_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    pts = corners @ rot.T + np.array(center)
    return tuple((float(x), float(y)) for x, y in pts)  # type: ignore[return-value]


def paste(
    frame: np.ndarray, sprite: np.ndarray, mask: np.ndarray, dst: Quad, marks: Sequence[tuple[float, float]] = ()
) -> list[tuple[float, float]]:
    """Warps `sprite` onto `frame` (in place) so its corners land on `dst`; returns `marks` mapped the same way.

    Only the bounding box of `dst` is touched, so pasting a phone into a 720p frame costs well under a ms."""
    h, w = sprite.shape[:2]
    src = np.array([(0, 0), (w, 0), (w, h), (0, h)], dtype=np.float32)
    dst_arr = np.array(dst, dtype=np.float32)
    fh, fw = frame.shape[:2]
    x0, y0 = np.floor(dst_arr.min(axis=0)).astype(int)
    x1, y1 = np.ceil(dst_arr.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, fw), min(y1, fh)
    matrix = cv2.getPerspectiveTransform(src, dst_arr)
    points = np.array(marks, dtype=np.float32).reshape(-1, 1, 2)
    mapped: Any = cv2.perspectiveTransform(points, matrix).reshape(-1, 2) if marks else []
    if x1 <= x0 or y1 <= y0:
        return [(float(x), float(y)) for x, y in mapped]
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    local = shift @ matrix
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(sprite, local, size, flags=cv2.INTER_LINEAR)
    alpha = cv2.warpPerspective(mask, local, size, flags=cv2.INTER_LINEAR).astype(np.float32)[:, :, None] / 255.0
    roi = frame[y0:y1, x0:x1]
    roi[:] = (warped * alpha + roi * (1 - alpha)).astype(np.uint8)
    return [(float(x), float(y)) for x, y in mapped]


def background(width: int, height: int, seed: int = 0) -> np.ndarray:
    """An entrance hall: a wall gradient, a door frame, a poster with text, a floor line."""
    rng = np.random.default_rng(seed)
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    base = 150 + 50 * ys - 30 * xs
    frame = np.stack([base * 0.95, base, base * 1.05], axis=2).clip(0, 255).astype(np.uint8)
    floor = int(height * 0.8)
    frame[floor:] = (90, 100, 110)
    door_x = int(width * rng.uniform(0.05, 0.2))
    cv2.rectangle(frame, (door_x, int(height * 0.1)), (door_x + width // 6, floor), (60, 80, 110), -1)
    px, py = int(width * rng.uniform(0.6, 0.75)), int(height * 0.12)
    cv2.rectangle(frame, (px, py), (px + width // 5, py + height // 4), (235, 235, 230), -1)
    scale = width / 1280
    for i, text in enumerate(("CHECK-IN", "Quet ma QR", "Scan your QR")):
        cv2.putText(
            frame,
            text,
            (px + int(10 * scale), py + int((40 + 40 * i) * scale)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.9 * scale,
            (40, 40, 40),
            max(1, int(2 * scale)),
            cv2.LINE_AA,
        )
    return frame
