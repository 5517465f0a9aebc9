"""Motion-blur experiment: could a deblurring fallback rescue the chain's weakest condition, and at what cost?

    python benchmarks/bench_deblur.py            # 60 motion-blurred frames at 640x480 and at 1280x720

Not part of the chain: the figures below decided against it (see docs/benchmarks.md, "Motion blur"). For each
motion frame of the entrance set that zxing misses, it reports:
- oracle: Wiener deconvolution with the exact blur kernel the generator used (an upper bound: no real
  station knows its kernel);
- local estimate: a crop around the frame's most textured region (where a code is), the blur direction from the
  crop's gradient structure tensor, then Wiener deconvolution for a sweep of streak lengths, each tried with zxing;
  with the CPU time this costs per frame. A real station would pay it on every frame where nothing was read,
  empty doorway included, because zxing almost never locates a motion-blurred symbol.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import entrance_set  # noqa: E402

from kiosk.decode.zxing_engine import ZxingEngine  # noqa: E402

STREAK_LENGTHS_720P = (4, 6, 8, 10, 13)  # px at 720p, scaled with the frame; motion_beyond draws 5-15 px
CONDITION = "motion_beyond"  # the first version's motion levels (5-15 px at 720p), which this experiment was run on
WIENER_NOISE = (0.002, 0.01, 0.03)  # noise-to-signal ratios the oracle tries


class _KernelRecorder:
    """Stands in for `cv2` inside entrance_set to keep the motion kernel it draws; delegates everything else."""

    def __init__(self) -> None:
        self.kernel: np.ndarray | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(cv2, name)

    def filter2D(self, src: np.ndarray, ddepth: int, kernel: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        self.kernel = kernel / max(float(kernel.sum()), 1e-6)
        return cv2.filter2D(src, ddepth, kernel, *args, **kwargs)


def motion_frames(n: int, size: tuple[int, int], seed: int) -> list[tuple[entrance_set.Sample, np.ndarray]]:
    recorder = _KernelRecorder()
    entrance_set.cv2 = recorder  # type: ignore[assignment]
    try:
        rng = random.Random(f"deblur-{seed}-{size}")
        backgrounds = [entrance_set.scene.background(*size, seed=seed * 10 + i) for i in range(4)]
        payloads = [entrance_set.make_cccd_payload(rng).encode() for _ in range(20)]
        frames = []
        for _ in range(n):
            recorder.kernel = None
            sample = entrance_set.make_sample(CONDITION, rng.choice(backgrounds).copy(), rng, rng.choice(payloads))
            assert recorder.kernel is not None, "entrance_set no longer blurs with cv2.filter2D"
            frames.append((sample, recorder.kernel))
        return frames
    finally:
        entrance_set.cv2 = cv2  # type: ignore[assignment]


def wiener(gray: np.ndarray, kernel: np.ndarray, noise: float) -> np.ndarray:
    """Frequency-domain Wiener deconvolution of `gray` by `kernel` (centred, sums to 1)."""
    height, width = gray.shape
    psf = np.zeros((height, width), np.float32)
    kh, kw = kernel.shape
    psf[:kh, :kw] = kernel
    psf = np.roll(psf, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    transfer = np.fft.rfft2(psf)
    spectrum = np.fft.rfft2(gray.astype(np.float32))
    restored = np.fft.irfft2(spectrum * np.conj(transfer) / (np.abs(transfer) ** 2 + noise), s=(height, width))
    return np.clip(restored, 0, 255).astype(np.uint8)


def streak_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A straight streak of `length` px at `angle_deg` (counter-clockwise from the x axis), bilinear."""
    n = int(np.ceil(length)) | 1
    kernel = np.zeros((n, n), np.float32)
    centre, theta = (n - 1) / 2, np.deg2rad(angle_deg)
    for s in np.linspace(-(length - 1) / 2, (length - 1) / 2, max(int(length * 2), 2)):
        x, y = centre + s * np.cos(theta), centre - s * np.sin(theta)
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        for dx, dy, weight in (
            (0, 0, (1 - fx) * (1 - fy)),
            (1, 0, fx * (1 - fy)),
            (0, 1, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            if 0 <= x0 + dx < n and 0 <= y0 + dy < n:
                kernel[y0 + dy, x0 + dx] += weight
    return kernel / kernel.sum()


def blur_angle(gray: np.ndarray) -> float:
    """The streak direction: across the dominant gradient orientation (a streak flattens gradients along it)."""
    image = gray.astype(np.float32)
    gx, gy = cv2.Sobel(image, cv2.CV_32F, 1, 0), cv2.Sobel(image, cv2.CV_32F, 0, 1)
    dominant = 0.5 * np.degrees(np.arctan2(2 * float((gx * gy).sum()), float((gx * gx).sum() - (gy * gy).sum())))
    return -(dominant + 90)  # image rows grow downwards; the kernel's angle is counter-clockwise


def textured_crop(gray: np.ndarray) -> np.ndarray:
    """The square around the most textured spot (a code, blurred or not, is the busiest thing in a doorway)."""
    factor = 4
    small = cv2.resize(gray, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA).astype(np.float32)
    energy = np.abs(cv2.Sobel(small, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(small, cv2.CV_32F, 0, 1))
    _, _, _, (x, y) = cv2.minMaxLoc(cv2.boxFilter(energy, -1, (15, 15)))
    half = int(min(gray.shape) * 0.3)
    cx, cy = x * factor, y * factor
    return np.ascontiguousarray(gray[max(cy - half, 0) : cy + half, max(cx - half, 0) : cx + half])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=60, help="motion frames per size (default 60)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    engine = ZxingEngine()

    def reads(image: np.ndarray, payload: bytes | None) -> bool:
        return any(code.data == payload for code in engine.decode(image))

    print("size       frames  zxing  oracle Wiener  local estimate  local CPU ms median / max")
    for size in ((640, 480), (1280, 720)):
        frames = motion_frames(args.n, size, args.seed)
        base = oracle = local = 0
        costs: list[float] = []
        for sample, kernel in frames:
            gray = cv2.cvtColor(sample.image, cv2.COLOR_BGR2GRAY)
            if reads(gray, sample.payload):
                base += 1
                continue
            oracle += any(reads(wiener(gray, kernel, noise), sample.payload) for noise in WIENER_NOISE)
            t0 = time.thread_time()
            crop = textured_crop(gray)
            angle = blur_angle(crop)
            unit = size[1] / 720
            local += any(
                reads(wiener(crop, streak_kernel(length * unit, angle), 0.01), sample.payload)
                for length in STREAK_LENGTHS_720P
            )
            costs.append((time.thread_time() - t0) * 1000)
        misses = len(frames) - base
        print(
            f"{size[0]}x{size[1]:<5} {len(frames):>6}  {base:>5}  {base + oracle:>4} (+{oracle}/{misses})"
            f"  {base + local:>5} (+{local}/{misses})  {np.median(costs):>10.1f} / {max(costs):.1f}"
        )


if __name__ == "__main__":
    main()
