"""Still images of any kind and size, read as BGR uint8 for the decoder, or a one-line reason they cannot be.

OpenCV reads most files (16-bit PNG is scaled to 8 bits, CMYK JPEG converted, EXIF orientation applied). What it
refuses (a 1×1 WebP, some palette or odd-mode files) is tried again with Pillow. Pixel counts above
`MAX_PIXELS` are refused before decoding, so a hostile file cannot take the kiosk's memory."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

MAX_PIXELS = 120_000_000  # 120 megapixels: a 50 MP photo is fine, a decompression bomb is not


class ImageUnreadable(Exception):
    """The file is not an image we can decode: the message is one line for the user."""


def load_image(path: str | Path) -> np.ndarray:
    """The image as a BGR uint8 array; ImageUnreadable (one line, no traceback) when it cannot be read."""
    return load_image_noted(path)[0]


def load_image_noted(path: str | Path) -> tuple[np.ndarray, str | None]:
    """(BGR image, a one-line note such as "truncated JPEG: ..." or None); ImageUnreadable when unreadable.

    A truncated JPEG is read by Pillow (its visible part, the rest grey) rather than OpenCV, whose libjpeg prints
    an unterminated warning of its own onto stderr."""
    path = Path(path)
    size = _pixel_count(path)
    if size is not None and size > MAX_PIXELS:
        raise ImageUnreadable(f"{size / 1e6:.0f} megapixels is more than the {MAX_PIXELS // 1_000_000} MP allowed")
    note = None
    image: np.ndarray | None = None
    if _truncated_jpeg(path):
        note = "truncated JPEG: decoding the part that is there"
    else:
        image = _with_opencv(path)
    if image is None:
        image = _with_pillow(path, truncated=note is not None)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image, note


def _truncated_jpeg(path: Path) -> bool:
    """A JPEG (SOI marker) whose data does not end with the EOI marker (trailing padding allowed)."""
    try:
        with path.open("rb") as file:
            if file.read(2) != b"\xff\xd8":
                return False
            file.seek(max(0, path.stat().st_size - 64))
            tail = file.read().rstrip(b"\x00\r\n ")
    except OSError:
        return False
    return not tail.endswith(b"\xff\xd9")


def _with_opencv(path: Path) -> np.ndarray | None:
    try:
        image = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
    except cv2.error:
        return None
    if image is None or image.size == 0:
        return None
    return image


def _with_pillow(path: Path, *, truncated: bool = False) -> np.ndarray:
    try:
        from PIL import Image, ImageFile, UnidentifiedImageError
    except ImportError as exc:  # pragma: no cover - Pillow comes with qrcode[pil], an install requirement
        raise ImageUnreadable("not an image OpenCV can read") from exc
    try:
        with Image.open(path) as pil:
            # Pillow's switch is module-wide; this is the only place that reads images with it.
            previous, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, truncated
            try:
                pil.load()
            finally:
                ImageFile.LOAD_TRUNCATED_IMAGES = previous
            rgb = np.asarray(_to_rgb(pil))
    except UnidentifiedImageError as exc:
        raise ImageUnreadable("not a readable image") from exc
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageUnreadable("not a readable image (truncated or corrupt)") from exc
    if rgb.size == 0:
        raise ImageUnreadable("an image with no pixels")
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)


def _to_rgb(pil: object) -> object:
    """Any Pillow mode to 8-bit RGB (16-bit gray 'I;16' needs scaling, not clipping)."""
    from PIL import Image

    assert isinstance(pil, Image.Image)
    if pil.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(pil, dtype=np.uint32)
        top = max(int(array.max()), 1)
        return Image.fromarray((array * 255 // top).astype(np.uint8)).convert("RGB")
    return pil.convert("RGB")


def _pixel_count(path: Path) -> int | None:
    """Width × height from the header alone (Pillow opens lazily); None when Pillow cannot tell."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - see _with_pillow
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we apply our own limit
            with Image.open(path) as pil:
                return int(pil.width) * int(pil.height)
    except Image.DecompressionBombError as exc:
        raise ImageUnreadable(f"more than the {MAX_PIXELS // 1_000_000} MP allowed") from exc
    except Exception:  # noqa: BLE001 - any header Pillow cannot parse: let the real readers decide
        return None
