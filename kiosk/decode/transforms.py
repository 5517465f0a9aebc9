"""Image transforms the decoder chain tries after the fast path: each maps a gray image to (image, scale).

Inversion (light on dark) is not here: zxing-cpp's own `try_invert` costs about 0.05 ms a 720p frame, so the
fast path always has it on.

`scale` maps original pixels to the transformed image's pixels (after removing `margin`, the border some
transforms add), so corners read there can be mapped back.
A transform returns None when it makes no sense for this image (a 2x upscale of a 50-megapixel photo, a shrink
to 1280 px of a frame that is already smaller): the chain then skips the step at no cost."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Transformed = tuple[np.ndarray, float, float] | None  # (image, scale, margin added on every side)
Transform = Callable[[np.ndarray], Transformed]

MAX_UPSCALE_PIXELS = 4_000_000  # above this a code has pixels enough; doubling would only cost time and memory


def _identity(gray: np.ndarray) -> Transformed:
    return gray, 1.0, 0.0


def _scaled(factor: float) -> Transform:
    def transform(gray: np.ndarray) -> Transformed:
        if factor > 1 and gray.size > MAX_UPSCALE_PIXELS:
            return None
        interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
        return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interp), factor, 0.0

    return transform


def _fit(long_side: int) -> Transform:
    """Shrink so the long side is `long_side` px: a code that fills a big photo, seen as a camera would."""

    def transform(gray: np.ndarray) -> Transformed:
        factor = long_side / max(gray.shape)
        if factor >= 0.8:  # hardly smaller: the fast path (and zxing's own pyramid) has seen that already
            return None
        return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA), factor, 0.0

    return transform


def _sharpen_double(gray: np.ndarray) -> Transformed:
    """2x upscale, then unsharp: small or motion-smeared modules get more pixels and their edges back."""
    if gray.size > MAX_UPSCALE_PIXELS:
        return None
    big = cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_LINEAR)
    blurred = cv2.GaussianBlur(big, (0, 0), 2.0)
    return cv2.addWeighted(big, 3.0, blurred, -2.0, 0), 2.0, 0.0


def _equalise(gray: np.ndarray) -> np.ndarray:
    # A CLAHE object per call (microseconds): a shared one would not be safe across decoding threads.
    return cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray)


def _adaptive(gray: np.ndarray) -> Transformed:
    """Local mean threshold. Kept for experiments: on the entrance set it rescued nothing zxing's own
    LocalAverage binariser had not (so it is not in the default fallbacks)."""
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 5), 1.0, 0.0


def _clahe(gray: np.ndarray) -> Transformed:
    """Local contrast equalisation: lifts a dark code (low light) or a phone in front of a bright window."""
    return _equalise(gray), 1.0, 0.0


def _clahe_half(gray: np.ndarray) -> Transformed:
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return _equalise(small), 0.5, 0.0


def _unsharp(sigma: float, amount: float) -> Transform:
    """Unsharp mask: gives blurred module edges (defocus, motion, small codes) their contrast back."""

    def transform(gray: np.ndarray) -> Transformed:
        blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
        return cv2.addWeighted(gray, 1.0 + amount, blurred, -amount, 0), 1.0, 0.0

    return transform


def _wiener_kernel(sigma: float, noise: float, taps: int) -> np.ndarray:
    """A 1-D Wiener inverse of a Gaussian blur of `sigma` px (noise-to-signal `noise`), `taps` long, sum 1."""
    freq = np.fft.fftfreq(256)
    blur = np.exp(-2 * (np.pi * sigma * freq) ** 2)
    kernel = np.real(np.fft.ifft(blur / (blur * blur + noise)))
    kernel = np.roll(kernel, taps // 2)[:taps]
    normalised: np.ndarray = (kernel / kernel.sum()).astype(np.float32)
    return normalised


def _deblur(sigma: float, noise: float = 0.01, taps: int = 15) -> Transform:
    """Deconvolution of a defocused code: a Wiener filter for a Gaussian blur, applied as two 1-D passes. On the
    entrance set's missed defocused frames it read 10 of 24 in ~2.7 ms per 720p frame; the exact 2-D filter as
    one FFT read 13 for 33-38 ms, which no per-frame budget affords."""
    kernel = _wiener_kernel(sigma, noise, taps)

    def transform(gray: np.ndarray) -> Transformed:
        return cv2.sepFilter2D(gray, -1, kernel, kernel, borderType=cv2.BORDER_REPLICATE), 1.0, 0.0

    return transform


def _pad(gray: np.ndarray) -> Transformed:
    """A white margin around the frame: a code held so close that it touches the border gets its quiet zone
    back (without one the finder patterns at the border are not confirmed). The corners move by the margin."""
    margin = max(8, min(gray.shape) // 16)
    return cv2.copyMakeBorder(gray, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255), 1.0, margin


# zxing-cpp's local binariser (HybridBinarizer) takes an 8x8 block whose grey levels span less than 24 as
# uniform, so in a dark frame a code whose modules differ by less than that is not even located. A frame whose
# brightest percent is below this level has little more than that for everything in it: it is lifted.
DARK_FRAME_LEVEL = 96
MIN_LIFT_RANGE = 8  # a stretch spreads at least this many levels over the range (gain x32 at most)
LIFT_DOUBLE_PIXELS = 640 * 480  # a dark frame up to VGA is doubled after the stretch, a bigger one blurred


def _grey_percentiles(gray: np.ndarray, low: float, high: float) -> tuple[int, int]:
    """The `low` and `high` quantiles of a sparse sample (every 8th pixel), from its histogram: ~0.02 ms at
    720p where np.percentile takes 0.15 ms."""
    sample = np.ascontiguousarray(gray[::8, ::8])
    cumulative = np.cumsum(cv2.calcHist([sample], [0], None, [256], [0, 256]).ravel())
    total = cumulative[-1]
    return int(np.searchsorted(cumulative, low * total)), int(np.searchsorted(cumulative, high * total))


def _lift(gray: np.ndarray) -> Transformed:
    """A dark frame (a dim entrance, a camera whose exposure lags the light) stretched to the full grey range.
    The gain brings the sensor noise up with the code, so the stretched frame is also low-passed: up to VGA
    doubled (bicubic, which zxing-cpp's binariser blocks then average over more of each small module), above it
    blurred a little. Of the 4 dark 480p frames the fast path missed on the entrance set (seeds 0 and 1),
    zxing-cpp read 1 stretched, all 4 stretched and doubled. Doubling a 720p frame would read no more and cost ~22 ms
    on a dark empty one (zxing-cpp on amplified noise), a whole frame's budget; blurred it costs ~6 ms.
    None on a frame that is not dark: the chain skips the step for the cost of a histogram (~0.02 ms)."""
    low, high = _grey_percentiles(gray, 0.01, 0.99)
    if high >= DARK_FRAME_LEVEL:
        return None
    gain = 255.0 / max(high - low, MIN_LIFT_RANGE)
    lifted = cv2.convertScaleAbs(gray, alpha=gain, beta=-low * gain)
    if gray.size > LIFT_DOUBLE_PIXELS:
        return cv2.GaussianBlur(lifted, (0, 0), 0.7), 1.0, 0.0
    return cv2.resize(lifted, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC), 2.0, 0.0


def _soften(gray: np.ndarray) -> Transformed:
    """A light Gaussian blur (sigma 0.5 px) for zbar, which finds a QR code's finder patterns from the edges
    along each scan line: sensor noise, JPEG blocks and a screen's pixel grid add edges inside modules that
    break its 1:1:3:1:1 runs. On the entrance set zbar read 8 more screen frames at 480p softened than as they
    came, but 33 fewer codes elsewhere (it blurs small modules together): a step after zbar, not instead of it."""
    return cv2.GaussianBlur(gray, (0, 0), 0.5), 1.0, 0.0


def _smooth_half(gray: np.ndarray) -> Transformed:
    """Blur away a screen's pixel grid and moiré, then halve: the modules stay, the sub-pixel pattern goes."""
    blurred = cv2.GaussianBlur(gray, (0, 0), 1.5)
    return cv2.resize(blurred, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), 0.5, 0.0


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
    "smooth_half": _smooth_half,
    "pad": _pad,
    "lift": _lift,
    "soften": _soften,
    "adaptive": _adaptive,
    "deblur": _deblur(2.5),
    "deblur_fine": _deblur(1.5),
}

# Transforms that only apply to images above a size (they return None on a camera frame): still photos.
SIZE_TRANSFORMS: dict[str, Transform] = {"fit1280": _fit(1280), "fit640": _fit(640)}
ALL_TRANSFORMS: dict[str, Transform] = {**TRANSFORMS, **SIZE_TRANSFORMS}
