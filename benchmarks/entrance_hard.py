"""The hard cases of the entrance set (issue 9): what real doors show and our first renderings did not.

Each drawer takes (frame, payload, rng) and returns (frame, corners of the code proper). Sizes scale with the
frame height, so 480p and 720p see the same scene through different sensors."""

from __future__ import annotations

import random
from collections.abc import Callable

import cv2
import numpy as np

from kiosk.sources import scene

Corners = list[tuple[float, float]]
Drawer = Callable[[np.ndarray, bytes, random.Random], tuple[np.ndarray, Corners]]


def _n_modules(payload: bytes) -> int:
    return int(scene.qr_modules(payload).shape[0]) - 8  # without the quiet zone


def _card(payload: bytes, module_px: int, margin_modules: float = 4.0, ink: int = 20, paper: int = 240) -> np.ndarray:
    """A printed card: the code with its quiet zone and a paper margin, gray."""
    qr = scene.qr_image(payload, module_px)
    qr = np.where(qr < 128, ink, paper).astype(np.uint8)
    pad = int(margin_modules * module_px)
    return cv2.copyMakeBorder(qr, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=paper)


def _paste_gray(
    frame: np.ndarray, image: np.ndarray, dst: scene.Quad, marks: Corners, mask: np.ndarray | None = None
) -> Corners:
    sprite = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    if mask is None:
        mask = np.full(sprite.shape[:2], 255, np.uint8)
    return scene.paste(frame, sprite, mask, dst, marks)


def _code_marks(payload: bytes, module_px: int, offset: float) -> Corners:
    inner = scene.qr_corners_in_image(payload, module_px)
    return [(offset + x, offset + y) for x, y in inner]


def closeup(frame: np.ndarray, payload: bytes, rng: random.Random) -> tuple[np.ndarray, Corners]:
    """A phone pushed up to the lens: the code fills 40-100 % of the height, its quiet zone cut at an edge (the
    code itself up to the edge), defocused in proportion to its module size."""
    height, width = frame.shape[:2]
    n = _n_modules(payload)
    code_px = rng.uniform(0.4, 1.0) * height
    module = code_px / n
    mpx = 8
    card = _card(payload, mpx, margin_modules=1.0, paper=rng.randint(215, 250))
    offset = 5.0 * mpx  # quiet zone (4) + margin (1), in card pixels
    cut = rng.uniform(0, 1.0) * module  # the code ends within a module of the edge: no quiet zone there
    edge = rng.choice(("left", "right", "top", "bottom", "none"))
    rotate, tilt = rng.uniform(-8, 8), rng.uniform(-10, 10)
    cx = rng.uniform(code_px / 2, max(code_px / 2, width - code_px / 2))
    cy = height / 2 + rng.uniform(-1, 1) * max(0.0, (height - code_px) / 2)
    # The code proper stays inside the frame (a cut finder pattern is unreadable by anyone); the edge named
    # takes it to within a module of the border, so the quiet zone there is gone.
    for _ in range(3):
        quad = np.array(scene.place_quad((cx, cy), code_px, code_px, rotate_deg=rotate, tilt_x_deg=tilt))
        (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
        if y1 - y0 > height - 2 or x1 - x0 > width - 2:
            code_px *= min((height - 2) / (y1 - y0), (width - 2) / (x1 - x0))
            continue
        shift = {"left": -x0 + cut, "right": width - 1 - x1 - cut, "top": -y0 + cut, "bottom": height - 1 - y1 - cut}
        if edge in ("left", "right"):
            cx += shift[edge]
        elif edge in ("top", "bottom"):
            cy += shift[edge]
        quad = np.array(scene.place_quad((cx, cy), code_px, code_px, rotate_deg=rotate, tilt_x_deg=tilt))
        (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
        cx += max(0.0, -x0) - max(0.0, x1 - (width - 1))
        cy += max(0.0, -y0) - max(0.0, y1 - (height - 1))
        break
    module = code_px / n
    scale = module / mpx
    side = card.shape[0] * scale
    dst = scene.place_quad((cx, cy), side, side, rotate_deg=rotate, tilt_x_deg=tilt)
    corners = _paste_gray(frame, card, dst, _code_marks(payload, mpx, offset))
    sigma = module * rng.uniform(0.1, 0.3)  # nearer than the lens focuses
    return cv2.GaussianBlur(frame, (0, 0), sigma), corners


def _screen_sprite(payload: bytes, rng: random.Random, module_px: int) -> tuple[np.ndarray, float]:
    """The code as a phone screen shows it up close: RGB sub-pixel columns, dark gaps between pixel rows."""
    qr = scene.qr_image(payload, module_px).astype(np.float32)
    level = rng.uniform(0.75, 1.0)
    lit = np.repeat(qr[:, :, None] / 255.0 * level, 3, axis=2)
    h, w = qr.shape
    sub = np.zeros((h, w, 3), np.float32)
    columns = np.arange(w) % 3
    for channel in range(3):  # BGR sub-pixels side by side
        sub[:, columns == 2 - channel, channel] = 1.0
    rows = (np.arange(h) % 3 == 2)[:, None, None]
    sub = np.where(rows, sub * 0.35, sub)
    sprite = np.clip((lit * (0.45 + 0.9 * sub)) * 255 + 12, 0, 255).astype(np.uint8)
    return sprite, 0.0


def screen(frame: np.ndarray, payload: bytes, rng: random.Random) -> tuple[np.ndarray, Corners]:
    """A code on a bright phone screen: sub-pixel grid resampled without smoothing (moiré), bloom, a glare blob,
    refresh banding (the camera's rolling shutter against the screen's PWM)."""
    height = frame.shape[0]
    n = _n_modules(payload)
    code_px = rng.uniform(0.28, 0.6) * height
    mpx = 9  # 3 screen pixels of 3 sub-pixels per module
    sprite, _ = _screen_sprite(payload, rng, mpx)
    side = (n + 8) * code_px / n
    width = frame.shape[1]
    cx = rng.uniform(side / 2, width - side / 2)
    cy = rng.uniform(side / 2, max(side / 2, height - side / 2))
    dst = scene.place_quad((cx, cy), side, side, rotate_deg=rng.uniform(-20, 20), tilt_x_deg=rng.uniform(-20, 20))
    corners = scene.paste(frame, sprite, np.full(sprite.shape[:2], 255, np.uint8), dst, _code_marks(payload, mpx, 0))
    module = code_px / n
    bright = np.clip(frame.astype(np.float32) - 170, 0, None)
    bloom = cv2.GaussianBlur(bright, (0, 0), module * rng.uniform(0.6, 1.5)) * rng.uniform(0.5, 1.2)
    out = frame.astype(np.float32) + bloom
    pts = np.array(corners)
    gx, gy = pts.mean(axis=0) + rng.uniform(-0.3, 0.3) * code_px
    yy, xx = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]].astype(np.float32)
    radius = code_px * rng.uniform(0.15, 0.35)
    glare = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * radius**2)) * rng.uniform(0.3, 0.7)
    out = out + glare[:, :, None] * (255 - out)
    period = rng.uniform(0.08, 0.3) * height
    bands = 1 - rng.uniform(0.08, 0.22) * (0.5 + 0.5 * np.sin(2 * np.pi * yy[:, :1] / period + rng.uniform(0, 6.3)))
    return np.clip(out * bands[:, :, None], 0, 255).astype(np.uint8), corners


def inverted(frame: np.ndarray, payload: bytes, rng: random.Random) -> tuple[np.ndarray, Corners]:
    """Dark mode: light modules on a dark screen, on a phone."""
    height, width = frame.shape[:2]
    n = _n_modules(payload)
    code_px = rng.uniform(150, 260) * height / 720
    mpx = 6
    dark, light = rng.randint(10, 45), rng.randint(190, 245)
    card = _card(payload, mpx, margin_modules=3.0, ink=light, paper=dark)
    side = card.shape[0] * code_px / (n * mpx)
    cx, cy = rng.uniform(side, width - side), rng.uniform(side * 0.7, height - side * 0.7)
    dst = scene.place_quad((cx, cy), side, side * 1.0, rotate_deg=rng.uniform(-15, 15), tilt_x_deg=rng.uniform(-20, 20))
    corners = _paste_gray(frame, card, dst, _code_marks(payload, mpx, 7.0 * mpx))
    return cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.3, 1.0) * height / 720), corners


# Half the angle of arc the code wraps, in radians: (code width / 2) / bend radius. A 30-45 mm code on a card
# curled in a hand (radius 40 mm and up: a palm, not a finger) wraps at most 0.5; the old levels (0.3-0.8: a
# radius down to 19 mm for a 30 mm code) are kept as the "beyond spec" row.
BENT_WRAP = (0.2, 0.5)
BENT_BEYOND_WRAP = (0.3, 0.8)


def bent(
    frame: np.ndarray, payload: bytes, rng: random.Random, wrap: tuple[float, float] = BENT_WRAP
) -> tuple[np.ndarray, Corners]:
    """A printed card bent around a hand: a cylinder seen from the front (columns squeezed towards the edges, a
    bow in the rows), darker where it turns away from the light."""
    height, width = frame.shape[:2]
    n = _n_modules(payload)
    mpx = 8
    # The code turned a quarter any number of times on the card: the card bends along its long side, the code
    # may be printed any way up (its corners, as a set, stay where they were).
    card = np.ascontiguousarray(np.rot90(_card(payload, mpx, margin_modules=2.0), rng.randrange(4)))
    h, w = card.shape
    theta = rng.uniform(*wrap)  # half the angle of arc the card wraps (edges foreshortened to cos θ)
    # Rows bow when the camera looks at the cylinder from above or below: the arc's depth (sagitta) seen at
    # that angle. Up to 20° off the card's axis, either side: at the widest wrap the edges move by ~7 % of the card.
    sagitta = w * (1 - np.cos(theta)) / (2 * np.sin(theta))
    bow = sagitta * np.sin(np.radians(rng.uniform(-20, 20)))  # the camera above or below the card
    xs = np.linspace(-1, 1, w, dtype=np.float32)
    src_u = np.arcsin(np.clip(xs * np.sin(theta), -1, 1)) / theta  # output column -> card column on the cylinder
    map_x = np.tile(((src_u + 1) / 2 * (w - 1))[None, :], (h, 1)).astype(np.float32)
    lift = (bow * (1 - np.cos(src_u * theta)) / (1 - np.cos(theta)))[None, :]
    map_y = (np.arange(h, dtype=np.float32)[:, None] - lift).astype(np.float32)
    warped = cv2.remap(card, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.remap(np.full_like(card, 255), map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
    shade = (0.65 + 0.35 * np.cos(src_u * theta))[None, :]
    warped = (warped * shade).astype(np.uint8)
    code_px = rng.uniform(160, 280) * height / 720
    side = w * code_px / (n * mpx)
    cx, cy = rng.uniform(side * 0.6, width - side * 0.6), rng.uniform(side * 0.6, max(side * 0.6, height - side * 0.6))
    dst = scene.place_quad((cx, cy), side, side, rotate_deg=rng.uniform(-20, 20), tilt_x_deg=rng.uniform(-15, 15))
    marks = _code_marks(payload, mpx, 6.0 * mpx)  # approximate: the flat card's corners
    corners = _paste_gray(frame, warped, dst, marks, mask)
    return cv2.GaussianBlur(frame, (0, 0), 0.6 * height / 720), corners


def draw_cards(frame: np.ndarray, payloads: list[bytes], rng: random.Random) -> Corners:
    """2-4 cards, each in its own cell of a 2×2 grid, each a little rotated and tilted."""
    height, width = frame.shape[:2]
    cells = rng.sample([(0, 0), (1, 0), (0, 1), (1, 1)], len(payloads))
    corners: Corners = []
    for payload, (col, row) in zip(payloads, cells, strict=True):
        n = _n_modules(payload)
        mpx = 6
        card = _card(payload, mpx, margin_modules=2.0)
        code_px = rng.uniform(150, 200) * height / 720
        side = card.shape[0] * code_px / (n * mpx)
        cx = (col + 0.5) * width / 2 + rng.uniform(-0.1, 0.1) * width / 2
        cy = (row + 0.5) * height / 2 + rng.uniform(-0.05, 0.05) * height / 2
        dst = scene.place_quad((cx, cy), side, side, rotate_deg=rng.uniform(-20, 20), tilt_x_deg=rng.uniform(-15, 15))
        corners += _paste_gray(frame, card, dst, _code_marks(payload, mpx, 6.0 * mpx))
    return corners


def draw_photo_card(frame: np.ndarray, payload: bytes, rng: random.Random) -> tuple[np.ndarray, Corners]:
    """A 12 MP still: one card from 6 % to 90 % of the photo's height, a little blur from the phone's camera."""
    height, width = frame.shape[:2]
    n = _n_modules(payload)
    mpx = 10
    card = _card(payload, mpx, margin_modules=2.0)
    code_px = rng.uniform(0.06, 0.9) * height
    side = card.shape[0] * code_px / (n * mpx)
    cx = rng.uniform(min(side / 2, width / 2), max(width - side / 2, width / 2))
    cy = rng.uniform(min(side / 2, height / 2), max(height - side / 2, height / 2))
    dst = scene.place_quad((cx, cy), side, side, rotate_deg=rng.uniform(-30, 30), tilt_x_deg=rng.uniform(-20, 20))
    corners = _paste_gray(frame, card, dst, _code_marks(payload, mpx, 6.0 * mpx))
    return cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.8, 2.5)), corners


DRAWERS: dict[str, Drawer] = {"closeup": closeup, "screen": screen, "inverted": inverted, "bent": bent}
