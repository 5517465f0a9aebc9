"""A printable sheet of enrolment QRs for a fleet of kiosks (`kiosk-server kiosk add --count N --sheet F.pdf`):
A4 pages of six labelled codes. IT staff print it, and each new station is shown one code: it enrols with no
typing (the QR carries the server's address as well as the one-time code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import Engine

from server import admin
from server.card import DPI, LOCAL_TZ, _fit_text, _mm, qr_image
from sync.protocol_pull import enrollment_qr_payload

MAX_FLEET = 500

A4_MM = (210, 297)
COLUMNS, ROWS = 2, 3
MARGIN_MM = 12


@dataclass(frozen=True)
class SheetEntry:
    kiosk_id: int
    kiosk_name: str
    qr_text: str  # sync.protocol_pull.enrollment_qr_payload(code, server_url)
    code: str  # printed too: a camera that cannot read the code can still be enrolled by typing it


@dataclass(frozen=True)
class FleetRequest:
    venue_id: int
    count: int
    name_prefix: str  # "Cổng" -> "Cổng 1" ... ; "" -> "Kiosk 1" ...
    code_ttl: timedelta
    token_days: int | None
    server_url: str | None  # written into every QR: the stations read where their server is from it
    sheet: str | None  # the PDF to write, if any


def add_fleet(engine: Engine, fleet: FleetRequest) -> list[SheetEntry]:
    """The kiosks, added; their codes, and the sheet written when asked for."""
    if not 1 <= fleet.count <= MAX_FLEET:
        raise admin.Invalid(f"--count must be 1 to {MAX_FLEET}")
    if fleet.sheet and not fleet.server_url:
        raise admin.Invalid("--sheet needs --server-url: the stations read the server's address from the QR")
    entries = []
    for number in range(1, fleet.count + 1):
        name = f"{fleet.name_prefix or 'Kiosk'} {number}"
        kiosk_id, code = admin.add_kiosk(engine, fleet.venue_id, name, fleet.code_ttl, fleet.token_days)
        entries.append(SheetEntry(kiosk_id, name, enrollment_qr_payload(code, fleet.server_url), code))
    if fleet.sheet:
        with engine.connect() as conn:
            venue_name = admin.venue_row(conn, fleet.venue_id).name
        save_sheet(render_sheet(entries, venue_name, datetime.now(UTC) + fleet.code_ttl), fleet.sheet)
    return entries


def render_sheet(entries: list[SheetEntry], venue_name: str, valid_until: datetime) -> list[Image.Image]:
    """The pages, at 300 dpi; every code labelled with the venue, the kiosk and the code's expiry."""
    per_page = COLUMNS * ROWS
    return [
        _page(entries[start : start + per_page], venue_name, valid_until) for start in range(0, len(entries), per_page)
    ]


def save_sheet(pages: list[Image.Image], path: str | Path) -> None:
    first, *rest = pages
    first.save(path, format="PDF", resolution=DPI, save_all=True, append_images=rest)


def _page(entries: list[SheetEntry], venue_name: str, valid_until: datetime) -> Image.Image:
    width, height = _mm(A4_MM[0]), _mm(A4_MM[1])
    page = Image.new("RGB", (width, height), "white")
    cell_w = (width - 2 * _mm(MARGIN_MM)) // COLUMNS
    cell_h = (height - 2 * _mm(MARGIN_MM)) // ROWS
    until = valid_until.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")
    for index, entry in enumerate(entries):
        left = _mm(MARGIN_MM) + (index % COLUMNS) * cell_w
        top = _mm(MARGIN_MM) + (index // COLUMNS) * cell_h
        _cell(page, (left, top, cell_w, cell_h), entry, venue_name, until)
    return page


def _cell(page: Image.Image, box: tuple[int, int, int, int], entry: SheetEntry, venue: str, until: str) -> None:
    left, top, width, height = box
    draw = ImageDraw.Draw(page)
    draw.rectangle((left + 4, top + 4, left + width - 4, top + height - 4), outline="#999999", width=2)
    side = min(width, height) - _mm(30)
    code = qr_image(entry.qr_text, box_size=1, border=4).resize((side, side), Image.Resampling.NEAREST)
    page.paste(code, (left + (width - side) // 2, top + _mm(4)))
    y = top + _mm(4) + side + _mm(2)
    lines = [
        (f"{venue}", 40, True),
        (f"{entry.kiosk_name} (kiosk {entry.kiosk_id})", 34, False),
        (f"Mã / code: {entry.code}", 30, False),
        (f"Hết hạn / valid until {until}", 26, False),
    ]
    for text, size, bold in lines:
        text, font = _fit_text(draw, text, width - _mm(8), size, bold)
        draw.text((left + width // 2, y), text, fill="black", font=font, anchor="mt")
        y += size + _mm(1.5)
