"""kiosk.csvsafe: formula cells neutralised, Vietnamese intact, BOM for Excel, real files read back."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.csvsafe import EVENT_HEADER, iter_safe_csv, safe_cell, write_events_csv, write_safe_csv
from kiosk.events import Direction, NewEvent
from kiosk.store import Store

DANGEROUS = ["=1+1", "+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", '=HYPERLINK("http://x","y")', "＝1+1"]


def read_back(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then shows Vietnamese correctly
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("cell", DANGEROUS)
def test_formula_cells_are_neutralised(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Nguyễn Văn A", "a=b", "1-2", "", "'quoted", " x=1", "\u200bNam"])
def test_ordinary_text_is_unchanged(cell: str) -> None:
    assert safe_cell(cell) == cell


@pytest.mark.parametrize(
    "cell", [" =x", "   +1", "\u00a0-2+3", "\u200b=cmd|' /C calc'!A0", "\ufeff@SUM(1)", "\u202e=1", "\u2066 -1"]
)
def test_formulas_after_whitespace_or_invisible_characters_are_neutralised(cell: str) -> None:
    """Issue 11 #6/#9: spreadsheets skip leading spaces and invisible characters before a formula."""
    assert safe_cell(cell) == "'" + cell


def test_unwritable_characters_never_break_the_file(tmp_path) -> None:  # noqa: ANN001
    from kiosk.csvsafe import write_safe_csv

    path = tmp_path / "out.csv"
    assert write_safe_csv(path, ("flags",), [("a\ud800b",), ("nul\x00here",), ("ok",)]) == 3
    text = path.read_text(encoding="utf-8-sig")
    assert "a\ufffdb" in text and "nul\ufffdhere" in text and "\x00" not in text


def test_non_text_values() -> None:
    assert safe_cell(None) == ""
    assert safe_cell(-5) == "-5"  # a number is data, never a formula
    assert safe_cell(2.5) == "2.5"
    assert safe_cell(True) == "true"
    assert safe_cell(date(1995, 3, 12)) == "1995-03-12"
    assert safe_cell(datetime(2026, 11, 1, 8, 0, tzinfo=UTC)) == "2026-11-01T08:00:00+00:00"


def test_write_safe_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out" / "x.csv"
    rows = [[d, 'Trần Thị Bích Ngọc, "Bé"', "line\nbreak"] for d in DANGEROUS]
    assert write_safe_csv(path, ["a", "b", "c"], rows) == len(rows)
    back = read_back(path)
    assert back[0] == ["a", "b", "c"]
    assert [r[0] for r in back[1:]] == ["'" + d for d in DANGEROUS]
    assert all(r[1] == 'Trần Thị Bích Ngọc, "Bé"' and r[2] == "line\nbreak" for r in back[1:])
    assert not list(tmp_path.glob("out/.*tmp"))  # the temporary file was renamed away


def test_iter_safe_csv_streams_bom_first() -> None:
    chunks = list(iter_safe_csv(["h"], [["=x"], ["Đà Nẵng"]]))
    assert chunks[0].startswith("\ufeff") and chunks[1:] == ["'=x\r\n", "Đà Nẵng\r\n"]


def test_write_events_csv_from_the_store(tmp_path: Path) -> None:
    vn = timezone(timedelta(hours=7))
    with Store.open(tmp_path / "k.db") as store:
        store.record(
            NewEvent(
                direction=Direction.ENTRY,
                credential="cccd",
                person_key="p1",
                id_number="038195001234",
                full_name="=cmd|' /C calc'!A0",
                date_of_birth=date(1995, 3, 12),
                wall_time=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
                monotonic_ns=1,
                flags=("id_mismatch", "symptoms"),
                details={"temp": "-37.5"},
            )
        )
        store.record(
            NewEvent(
                direction=Direction.EXIT,
                credential="pccovid",
                person_key="p2",
                id_number="",
                full_name="Lê Thị Hạnh",
                date_of_birth=None,
                wall_time=datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
                monotonic_ns=2,
                source="scanner",
            )
        )
        path = tmp_path / "events.csv"
        assert write_events_csv(store.events(), path, extra_columns=("temp",), tz=vn) == 2
        uuids = [e.uuid for e in store.events()]
    back = read_back(path)
    assert back[0] == [*EVENT_HEADER, "temp"]
    assert back[0][:6] == ["time", "direction", "credential", "id_number", "full_name", "date_of_birth"]
    first, second = back[1], back[2]
    assert first == [
        "2026-11-01T15:00:00+07:00",
        "entry",
        "cccd",
        "038195001234",
        "'=cmd|' /C calc'!A0",
        "1995-03-12",
        "scan",
        "id_mismatch;symptoms",
        uuids[0],
        "'-37.5",
    ]
    assert second[:9] == [
        "2026-11-01T16:30:00+07:00",
        "exit",
        "pccovid",
        "",
        "Lê Thị Hạnh",
        "",
        "scanner",
        "",
        uuids[1],
    ]
