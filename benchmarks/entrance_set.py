"""A synthetic "entrance" set for the decode benchmark: visitors' phones with CCCD QR codes, under the conditions
a cheap webcam at a venue door meets, plus empty frames with decoys.

Deterministic for a seed. Conditions: clean, glare, tilt (up to 40°), motion blur, defocus, low light, backlight,
small code, heavy JPEG, mixed, and empty frames (text, barcode-like stripes, a fake QR with finder patterns,
checkerboards, noise). The hard cases real doors show (issue 9): a phone held close (the code fills 40-100 % of
the frame height, its quiet zone cut at an edge, defocused because it is nearer than the lens focuses), a code on
a phone screen photographed as it is (sub-pixel grid, moiré from resampling, bloom, glare, refresh banding),
an inverted code (dark mode), a printed card bent around a hand, and several cards in one frame. Every frame
also goes through mild sensor noise and MJPG-like JPEG compression. `photos()` makes 12-megapixel stills.

    python benchmarks/entrance_set.py --out /tmp/entrance   # write the set as PNGs to look at
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import entrance_hard as hard  # noqa: E402

from kiosk.demo import make_cccd_payload  # noqa: E402
from kiosk.sources import scene  # noqa: E402

SIZES: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720))

# condition -> weight in the set; "empty" frames hold no QR code at all
CONDITIONS: dict[str, float] = {
    "clean": 1.0,
    "glare": 1.0,
    "tilt": 1.0,
    "motion": 1.0,
    "defocus": 1.0,
    "lowlight": 1.0,
    "backlight": 1.0,
    "small": 1.0,
    "jpeg": 1.0,
    "mixed": 1.0,
    "closeup": 1.0,
    "screen": 1.0,
    "inverted": 1.0,
    "bent": 1.0,
    "multi": 1.0,
    "empty": 3.5,
    # The old levels of motion, defocus and bend, past what a visitor holding a phone or card at a door makes
    # (see "Is the set realistic?" in docs/benchmarks.md): reported on their own row, not in the 95 % target.
    "motion_beyond": 1.0,
    "defocus_beyond": 1.0,
    "bent_beyond": 1.0,
}
BEYOND_SPEC = frozenset(("motion_beyond", "defocus_beyond", "bent_beyond"))

# The camera at the door, for blur levels derived from physics rather than picked (docs/benchmarks.md):
# exposure 1/60-1/30 s (auto exposure in a lit entrance; a darker one is "lowlight"), a phone held out at
# 2-5 cm/s of residual drift and tremor, a printed or shown code 30-45 mm wide, a fixed-focus lens with a
# 1.1-2.0 mm aperture (3-4 mm, f/2-f/2.8) focused far away. Both blurs then scale with the module, not the frame:
# streak = speed x exposure / module; blur circle = aperture x modules / code width (thin lens, focus at infinity).
HOLD_SPEED_MM_S = (20.0, 50.0)
EXPOSURE_S = (1 / 60, 1 / 30)
CODE_WIDTH_MM = (30.0, 45.0)
APERTURE_MM = (1.1, 2.0)
FOCUS_FACTOR = (0.7, 1.0)  # 1 - distance / focus distance: a code at 12-30 cm, the lens focused at 1 m or beyond


def _motion_blur(frame: np.ndarray, length_px: float, rng: random.Random) -> np.ndarray:
    """A straight streak of `length_px` (sub-pixel lengths drawn as a line with anti-aliased ends), any angle."""
    size = int(np.ceil(length_px)) | 1
    kernel = np.zeros((size, size), np.float32)
    half = (length_px - 1) / 2
    centre = size // 2
    for i in range(size):  # a horizontal line of length `length_px` through the centre, ends weighted partly
        offset = abs(i - centre)
        kernel[centre, i] = float(np.clip(half + 1 - offset, 0.0, 1.0))
    rot = cv2.getRotationMatrix2D((centre, centre), rng.uniform(0, 180), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (size, size))
    return cv2.filter2D(frame, -1, kernel / max(float(kernel.sum()), 1e-6))


@dataclass(frozen=True)
class Sample:
    image: np.ndarray  # BGR
    payload: bytes | None  # None on an empty frame
    condition: str
    size: tuple[int, int]  # (width, height)
    corners: tuple[tuple[float, float], ...]  # where the code proper was drawn ([] on an empty frame)
    others: tuple[bytes, ...] = ()  # further codes in the same frame ("multi")

    @property
    def payloads(self) -> tuple[bytes, ...]:
        return () if self.payload is None else (self.payload, *self.others)


def generate(n_per_size: int = 250, seed: int = 0, sizes: tuple[tuple[int, int], ...] = SIZES) -> Iterator[Sample]:
    """`n_per_size` frames at each size, conditions drawn by weight, the same for the same seed."""
    names, weights = list(CONDITIONS), list(CONDITIONS.values())
    for width, height in sizes:
        rng = random.Random(f"{seed}-{width}x{height}")
        backgrounds = [scene.background(width, height, seed=seed * 10 + i) for i in range(4)]
        # A pool of visitors: making a QR matrix costs ~50 ms in pure Python, drawing it again is cheap.
        payloads = [make_cccd_payload(rng).encode() for _ in range(60)]
        for _ in range(n_per_size):
            condition = rng.choices(names, weights)[0]
            bg = rng.choice(backgrounds).copy()
            if condition == "multi":
                yield make_multi(bg, rng, rng.sample(payloads, rng.randint(2, 4)))
            else:
                yield make_sample(condition, bg, rng, rng.choice(payloads))


def make_sample(condition: str, frame: np.ndarray, rng: random.Random, payload: bytes) -> Sample:
    """One frame of `condition` drawn onto `frame` (a background, modified in place)."""
    height, width = frame.shape[:2]
    if condition == "empty":
        _draw_decoys(frame, rng)
        return Sample(_camera(frame, rng, quality=rng.randint(70, 90)), None, condition, (width, height), ())
    if condition in hard.DRAWERS:
        frame, corners = hard.DRAWERS[condition](frame, payload, rng)
        return Sample(_camera(frame, rng, rng.randint(70, 90)), payload, condition, (width, height), tuple(corners))
    if condition == "bent_beyond":
        frame, corners = hard.bent(frame, payload, rng, wrap=hard.BENT_BEYOND_WRAP)
        return Sample(_camera(frame, rng, rng.randint(70, 90)), payload, condition, (width, height), tuple(corners))
    unit = height / 720  # codes scale with the frame: the same arm's length seen by a smaller sensor
    code_px = rng.uniform(150, 260) * unit
    rotate = rng.uniform(-15, 15)
    tilt_x = tilt_y = 0.0
    screen = rng.randint(215, 255)
    if condition == "small":
        code_px = rng.uniform(65, 105) * unit
    elif condition == "tilt":
        tilt_x, tilt_y, rotate = rng.uniform(-40, 40), rng.uniform(-25, 25), rng.uniform(-30, 30)
    elif condition == "mixed":
        tilt_x, rotate = rng.uniform(-25, 25), rng.uniform(-20, 20)
    elif condition == "backlight":
        frame[:] = np.clip(frame.astype(np.int16) + rng.randint(90, 130), 0, 255).astype(np.uint8)
        screen = rng.randint(45, 95)  # auto-exposure set by the bright doorway: the phone comes out dark
    corners = _draw_phone(frame, payload, code_px, rotate, tilt_x, tilt_y, screen, rng)
    if condition == "glare":
        _glare(frame, corners, rng)
    frame = _degrade(condition, frame, rng, unit, code_px)
    quality = rng.randint(8, 25) if condition == "jpeg" else rng.randint(70, 90)
    return Sample(_camera(frame, rng, quality), payload, condition, (width, height), tuple(corners))


def make_multi(frame: np.ndarray, rng: random.Random, payloads: list[bytes]) -> Sample:
    """Several printed cards in one frame (a parent with the children's cards), one per cell of a 2×2 grid."""
    height, width = frame.shape[:2]
    corners = hard.draw_cards(frame, payloads, rng)
    image = _camera(frame, rng, rng.randint(70, 90))
    return Sample(image, payloads[0], "multi", (width, height), tuple(corners), tuple(payloads[1:]))


def photos(n: int = 12, seed: int = 0, size: tuple[int, int] = (4000, 3000)) -> Iterator[Sample]:
    """12-megapixel stills for `kiosk decode`: a card anywhere from small to filling the photo, mildly blurred."""
    rng = random.Random(f"photo-{seed}")
    payloads = [make_cccd_payload(rng).encode() for _ in range(8)]
    for _ in range(n):
        frame = cv2.resize(scene.background(1000, 750, seed=rng.randrange(100)), size, interpolation=cv2.INTER_LINEAR)
        payload = rng.choice(payloads)
        frame, corners = hard.draw_photo_card(frame, payload, rng)
        yield Sample(_camera(frame, rng, rng.randint(80, 95)), payload, "photo12mp", size, tuple(corners))


def _draw_phone(
    frame: np.ndarray,
    payload: bytes,
    code_px: float,
    rotate: float,
    tilt_x: float,
    tilt_y: float,
    screen: int,
    rng: random.Random,
) -> list[tuple[float, float]]:
    height, width = frame.shape[:2]
    module_px = 6
    qr = scene.qr_image(payload, module_px)
    sprite, mask, qr_box = scene.phone_sprite(qr, screen_brightness=screen)
    inner = scene.qr_corners_in_image(payload, module_px)
    marks = [(qr_box[0][0] + x, qr_box[0][1] + y) for x, y in inner]
    scale = code_px / (inner[1][0] - inner[0][0])
    sw, sh = sprite.shape[1] * scale, sprite.shape[0] * scale
    margin_x, margin_y = sw * 0.6, sh * 0.6
    center = (
        rng.uniform(margin_x, max(margin_x + 1, width - margin_x)),
        rng.uniform(margin_y, max(margin_y + 1, height - margin_y)),
    )
    dst = scene.place_quad(center, sw, sh, rotate_deg=rotate, tilt_x_deg=tilt_x, tilt_y_deg=tilt_y)
    return scene.paste(frame, sprite, mask, dst, marks)


def _glare(frame: np.ndarray, corners: list[tuple[float, float]], rng: random.Random) -> None:
    """A bright reflection on the phone's glass: a soft blob that washes out part of the code."""
    pts = np.array(corners)
    side = float(np.linalg.norm(pts[1] - pts[0]))
    cx, cy = pts.mean(axis=0) + rng.uniform(-0.35, 0.35) * side
    radius = side * rng.uniform(0.2, 0.4)
    peak = rng.uniform(0.6, 0.95)
    x0, y0 = max(int(cx - 3 * radius), 0), max(int(cy - 3 * radius), 0)
    x1, y1 = min(int(cx + 3 * radius) + 1, frame.shape[1]), min(int(cy + 3 * radius) + 1, frame.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    blob = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2))) * peak
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = np.clip(roi + blob[:, :, None] * (255 - roi), 0, 255).astype(np.uint8)


def _degrade(condition: str, frame: np.ndarray, rng: random.Random, unit: float, code_px: float) -> np.ndarray:
    px_per_mm = code_px / rng.uniform(*CODE_WIDTH_MM)  # the code's scale in the frame: both blurs follow it
    if condition == "motion":  # streak = residual hand speed x exposure
        streak_mm = rng.uniform(*HOLD_SPEED_MM_S) * rng.uniform(*EXPOSURE_S)
        frame = _motion_blur(frame, max(2.0, streak_mm * px_per_mm), rng)
    elif condition in ("motion_beyond", "mixed"):  # the old levels: 5-15 px at 720p whatever the code's size
        frame = _motion_blur(frame, max(3, int(rng.uniform(5, 15 if condition != "mixed" else 7) * unit)), rng)
    if condition == "defocus":  # blur circle = aperture x (1 - distance / focus distance); a disk's sigma is d / 4
        circle_px = rng.uniform(*APERTURE_MM) * px_per_mm * rng.uniform(*FOCUS_FACTOR)
        frame = cv2.GaussianBlur(frame, (0, 0), max(0.5, circle_px / 4))
    elif condition in ("defocus_beyond", "mixed"):  # the old levels: sigma 1.2-2.8 px at 720p
        sigma = rng.uniform(1.2, 2.8 if condition != "mixed" else 1.4) * unit
        frame = cv2.GaussianBlur(frame, (0, 0), sigma)
    if condition == "lowlight":
        gain = rng.uniform(0.07, 0.22)
        noisy = frame.astype(np.float32) * gain + np.random.default_rng(rng.randrange(2**32)).normal(0, 4, frame.shape)
        frame = np.clip(noisy, 0, 255).astype(np.uint8)
    return frame


def _camera(frame: np.ndarray, rng: random.Random, quality: int) -> np.ndarray:
    """Sensor noise, then JPEG like a webcam's MJPG stream."""
    cv2.setRNGSeed(rng.randrange(2**31))  # cv2.randn: ~10x faster than numpy's normal() on a 720p frame
    noise = np.empty(frame.shape, np.int16)
    cv2.randn(noise, 0, 2.0)
    noisy = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    ok, jpg = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR) if ok else noisy


def _draw_decoys(frame: np.ndarray, rng: random.Random) -> None:
    """Things that look a little like codes: text, barcode stripes, a fake QR, checkerboards, noise."""
    height, width = frame.shape[:2]
    for _ in range(rng.randint(2, 4)):
        kind = rng.choice(("text", "stripes", "fake_qr", "checker", "noise"))
        w = int(rng.uniform(0.12, 0.3) * width)
        x, y = rng.randrange(0, width - w), rng.randrange(0, height - w)
        roi = frame[y : y + w, x : x + w]
        if kind == "text":
            roi[:] = 235
            for i in range(6):
                cv2.putText(
                    roi,
                    "".join(rng.choices("ABCDEFGH0123456789 ", k=10)),
                    (4, 18 + i * w // 6),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    w / 400,
                    (20, 20, 20),
                    1,
                    cv2.LINE_AA,
                )
        elif kind == "stripes":
            bars = np.repeat(np.array(rng.choices((0, 255), k=w // 2), np.uint8), 2)[:w]
            roi[:] = np.resize(bars, (w, w))[:, :, None]
        elif kind == "fake_qr":
            roi[:] = cv2.resize(_fake_qr(rng), (w, w), interpolation=cv2.INTER_NEAREST)[:, :, None]
        elif kind == "checker":
            cell = rng.randint(3, 12)
            yy, xx = np.mgrid[0:w, 0:w]
            roi[:] = (((yy // cell + xx // cell) % 2) * 255).astype(np.uint8)[:, :, None]
        else:
            roi[:] = np.random.default_rng(rng.randrange(2**32)).integers(0, 256, (w, w, 1), dtype=np.uint8)


def _fake_qr(rng: random.Random) -> np.ndarray:
    """Three finder patterns around random modules: looks like a QR to a detector, decodes to nothing."""
    n = 33
    modules = np.array([[rng.random() < 0.5 for _ in range(n)] for _ in range(n)])
    finder = np.ones((7, 7), bool)
    finder[1:6, 1:6] = False
    finder[2:5, 2:5] = True
    for r, c in ((0, 0), (0, n - 7), (n - 7, 0)):
        modules[r : r + 7, c : c + 7] = finder
    img = np.full((n + 8, n + 8), 255, np.uint8)
    img[4 : 4 + n, 4 : 4 + n] = np.where(modules, 0, 255)
    return img


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the frames into (PNG)")
    parser.add_argument("-n", type=int, default=40, help="frames per size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for i, sample in enumerate(generate(args.n, args.seed)):
        cv2.imwrite(str(args.out / f"{i:04d}_{sample.size[0]}x{sample.size[1]}_{sample.condition}.png"), sample.image)
    print(f"wrote {i + 1} frames to {args.out}")


if __name__ == "__main__":
    main()
