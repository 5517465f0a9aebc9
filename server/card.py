"""QR images of personal codes: a PNG for screens and downloads, and a printable A6 card (PNG or PDF)."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import qrcode
from PIL import Image, ImageDraw, ImageFont

A6_MM = (105, 148)
DPI = 300
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)  # fonts-dejavu-core: has every Vietnamese glyph


def qr_image(text: str, box_size: int = 10, border: int = 4) -> Image.Image:
    """The code at error correction M (version <= 10 for our personal QR), black on white, 1 bit."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("1")


def qr_png(text: str, box_size: int = 10) -> bytes:
    buffer = io.BytesIO()
    qr_image(text, box_size).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _FONT_DIRS:
        path = Path(folder) / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)  # Pillow's own font; fewer glyphs, but never a crash


def _mm(value: float) -> int:
    return round(value / 25.4 * DPI)


def _fit_text(
    draw: ImageDraw.ImageDraw, text: str, width: int, size: int, bold: bool
) -> tuple[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    """The largest font (down to half `size`) at which `text` fits in `width` pixels."""
    for candidate in range(size, size // 2, -2):
        font = _font(candidate, bold)
        if draw.textlength(text, font=font) <= width:
            return text, font
    return text, _font(size // 2, bold)


def render_card(qr_text: str, full_name: str, person_id: str, valid_until: datetime) -> Image.Image:
    """An A6 portrait card at 300 dpi: title, the QR (about 80 mm wide), the name, the validity, the id."""
    width, height = _mm(A6_MM[0]), _mm(A6_MM[1])
    card = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(card)
    margin = _mm(8)
    draw.rectangle([_mm(2), _mm(2), width - _mm(2), height - _mm(2)], outline="black", width=4)
    y = _mm(8)
    for text, size, bold in (("MÃ QR CÁ NHÂN", 64, True), ("Personal check-in QR", 38, False)):
        text, font = _fit_text(draw, text, width - 2 * margin, size, bold)
        draw.text((width // 2, y), text, fill="black", font=font, anchor="mt")
        y += size + _mm(2)
    side = _mm(82)
    code = qr_image(qr_text, box_size=1, border=4).resize((side, side), Image.Resampling.NEAREST)
    card.paste(code, ((width - side) // 2, y))
    y += side + _mm(4)
    name, font = _fit_text(draw, full_name, width - 2 * margin, 60, True)
    draw.text((width // 2, y), name, fill="black", font=font, anchor="mt")
    y += _mm(8)
    until = valid_until.astimezone(LOCAL_TZ).strftime("%d/%m/%Y")
    for line in (f"Có giá trị đến / Valid until: {until}", f"Mã / ID: {person_id}"):
        text, font = _fit_text(draw, line, width - 2 * margin, 40, False)
        draw.text((width // 2, y), text, fill="black", font=font, anchor="mt")
        y += _mm(6)
    note = "Xuất trình mã này tại điểm kiểm soát / Show this code at the checkpoint"
    text, font = _fit_text(draw, note, width - 2 * margin, 30, False)
    draw.text((width // 2, height - _mm(8)), text, fill="black", font=font, anchor="mb")
    return card


def save_card(card: Image.Image, out: str | Path) -> Path:
    """PNG, or PDF when the name ends in .pdf; both at 300 dpi so that A6 prints at A6."""
    path = Path(out)
    if path.suffix.lower() == ".pdf":
        card.save(path, format="PDF", resolution=DPI)
    else:
        card.save(path, format="PNG", dpi=(DPI, DPI))
    return path
