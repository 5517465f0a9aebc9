"""CSV that is safe to open in a spreadsheet: no formula injection, Vietnamese intact in Excel.

Used by the kiosk's export and reused by the central server's tracing export (`iter_safe_csv` streams).
Neutralising follows OWASP's CSV-injection advice: a text cell that starts with a character a spreadsheet
treats as the start of a formula gets a leading single quote, so it is shown as text and never evaluated.
Spreadsheets skip leading spaces and invisible characters (a zero-width space, a BOM, a bidirectional mark)
before they look for the formula, so the check looks past them too. A cell can never break the file: an
unpaired surrogate or a control character (other than tab and newline) becomes U+FFFD."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from kiosk.events import NewEvent

BOM = "\ufeff"  # Excel reads a UTF-8 CSV as UTF-8 only when it starts with a BOM
# = + - @ and tab / CR (OWASP), plus their full-width forms, which some spreadsheets also accept.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

# Controls a CSV cell must not carry (NUL breaks readers; the rest are invisible) and unpaired surrogates
# (they cannot be written as UTF-8 at all). Tab, newline and carriage return are quoted by the csv module.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _invisible(ch: str) -> bool:
    """What a spreadsheet skips before a formula: whitespace, format characters (ZWSP, BOM, bidi marks)."""
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp", "Cc")


def _looks_like_formula(text: str) -> bool:
    start = 0
    while start < len(text) and _invisible(text[start]) and not text[start].startswith(FORMULA_PREFIXES):
        start += 1
    return text.startswith(FORMULA_PREFIXES) or text[start:].startswith(FORMULA_PREFIXES)


EVENT_HEADER = (
    "time",
    "direction",
    "credential",
    "id_number",
    "full_name",
    "date_of_birth",
    "source",
    "flags",
    "uuid",
)


def safe_cell(value: Any) -> str:
    """One cell as text that no spreadsheet will evaluate. Numbers stay numbers; None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)  # a number is data, never a formula
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = _UNWRITABLE.sub("\ufffd", str(value))
    if _looks_like_formula(text):
        return "'" + text
    return text


def _line(cells: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([safe_cell(cell) for cell in cells])
    return buffer.getvalue()


def iter_safe_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV as text chunks, BOM first: for streaming (e.g. a web response encoded as UTF-8)."""
    yield BOM + _line(header)
    for row in rows:
        yield _line(row)


def write_safe_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write the CSV to `path` atomically (temporary file, then rename); returns the number of data rows."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    count = -1  # the header is not a data row
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            for chunk in iter_safe_csv(header, rows):
                out.write(chunk)
                count += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return count


def event_row(event: NewEvent, extra_columns: Sequence[str] = (), tz: tzinfo = UTC) -> list[Any]:
    """The cells of one event under EVENT_HEADER + extra_columns (extra columns are keys of `details`)."""
    extras = []
    for key in extra_columns:
        value = event.details.get(key)
        extras.append(json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value)
    return [
        event.wall_time.astimezone(tz).isoformat(),
        str(event.direction),
        event.credential,
        event.id_number,
        event.full_name,
        event.date_of_birth.isoformat() if event.date_of_birth else "",
        event.source,
        ";".join(event.flags),
        event.uuid,
        *extras,
    ]


def write_events_csv(
    events: Iterable[NewEvent], path: str | Path, extra_columns: Sequence[str] = (), tz: tzinfo = UTC
) -> int:
    """Write events as a spreadsheet-safe CSV; times in ISO 8601 with their offset in `tz` (UTC by default)."""
    header = (*EVENT_HEADER, *extra_columns)
    return write_safe_csv(path, header, (event_row(e, extra_columns, tz) for e in events))
