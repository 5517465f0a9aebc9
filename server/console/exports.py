"""A trace as a spreadsheet: CSV (kiosk.csvsafe: formula-safe, BOM for Excel) and XLSX (written here as
plain Office Open XML: every cell an inline string or a number, so nothing in it is ever a formula; text
cells are also made safe as in the CSV, for whoever copies them on). Times carry their UTC offset."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from kiosk.csvsafe import iter_safe_csv, safe_cell
from server.console.trace_search import CERTAINTY, PersonRow, TraceResult

HEADER = (
    "degree",
    "venue_id",
    "venue_name",
    "visit_start",
    "visit_end",
    "via_full_name",
    "full_name",
    "id_number",
    "person_id",
    "phone",
    "date_of_birth",
    "identity",
    "credential",
    "start",
    "end",
    "start_inferred",
    "end_inferred",
    "shared_minutes",
)


def _time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _person(row: PersonRow, zone: ZoneInfo) -> list[Any]:
    return [
        row.full_name,
        row.id_number,
        row.person_id,
        row.phone,
        row.date_of_birth.isoformat() if row.date_of_birth else "",
        CERTAINTY[row.certainty][1],
        row.credential,
        _time(row.start, zone),
        _time(row.end, zone),
        row.start_inferred,
        row.end_inferred,
        row.shared_minutes,
    ]


def export_rows(result: TraceResult, zone: ZoneInfo) -> Iterator[list[Any]]:
    """One row per (visit, co-visitor); a visit alone still gets a row; then the second degree."""
    for visit in result.visits:
        head = [1, visit.venue_id, visit.venue_name, _time(visit.subject.start, zone), _time(visit.subject.end, zone)]
        if not visit.contacts:
            yield head + [""] * (len(HEADER) - len(head))
        for contact in visit.contacts:
            yield [*head, "", *_person(contact, zone)]
    for second in result.second_degree or ():
        yield [2, "", second.venue_name, "", "", second.via.full_name, *_person(second.person, zone)]


def csv_chunks(result: TraceResult, zone: ZoneInfo) -> Iterator[bytes]:
    return (chunk.encode() for chunk in iter_safe_csv(HEADER, export_rows(result, zone)))


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(ref: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = escape(safe_cell(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = []
    for number, row in enumerate([header, *rows], start=1):
        cells = "".join(_cell(f"{_column(i)}{number}", value) for i, value in enumerate(row))
        lines.append(f'<row r="{number}">{cells}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(lines)}</sheetData></worksheet>"
    )


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="trace" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/worksheets/sheet1.xml", _sheet(header, rows))
    return buffer.getvalue()


def trace_xlsx(result: TraceResult, zone: ZoneInfo) -> bytes:
    return xlsx_bytes(HEADER, export_rows(result, zone))
