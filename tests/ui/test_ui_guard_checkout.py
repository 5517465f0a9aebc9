"""Manual check-out is bound to the person the guard chose, confirmed by their masked name, shown as done, and
can be undone for a while by a correcting entry (issue 10, item 2). Real store, real pipeline thread, offscreen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.demo import demo_people
from kiosk.privacy import mask_name
from kiosk.store import Store
from tests.support.media import write_video
from tests.support.station import make_settings, stations, wait_for_views

station_factory = pytest.fixture(stations)

PEOPLE = demo_people(4, seed=23)


def station_with_three_inside(tmp_path: Path, station_factory: Any) -> Any:
    settings = make_settings(tmp_path, station={"cooldown_seconds": 0})
    video = write_video(tmp_path / "empty.avi", [(None, 30.0)], fps=5)
    station = station_factory(settings, source=str(video))
    for count, person in enumerate(PEOPLE[:3], start=1):
        station.submit_payload(person.payload.encode("utf-8"))
        wait_for_views(station.qtbot, station, count)
    station.open_guard_panel()
    return station


def row_of(table: Any, name: str) -> int:
    return next(row for row in range(table.rowCount()) if table.item(row, 0).text().startswith(name))


def test_checkout_follows_the_person_not_the_row_and_a_double_tap_records_one(
    tmp_path: Path, station_factory: Any
) -> None:
    station = station_with_three_inside(tmp_path, station_factory)
    panel = station.window.guard_panel
    first, chosen, third = (mask_name(person.full_name) for person in PEOPLE[:3])
    panel.inside_table.selectRow(row_of(panel.inside_table, chosen))  # row 1
    panel.checkout_button.click()
    bar = panel.action_bar
    assert bar.isVisible() and chosen in bar.label.text()  # "Check out Đỗ B. H.?"
    # Meanwhile the person above leaves by scanning out: the rows move up by one.
    station.submit_payload(PEOPLE[0].payload.encode("utf-8"))
    assert wait_for_views(station.qtbot, station, 4)[3].outcome == "exit"
    panel.refresh()
    assert panel.inside_table.item(0, 0).text().startswith(chosen)
    assert panel.inside_table.selectedItems()[0].row() == 0  # the selection moved with the person
    bar.confirm_button.click()
    bar.confirm_button.click()  # a double tap
    panel.checkout_button.click()  # and a tap on the check-out button: nobody is selected any more
    station.qtbot.waitUntil(lambda: panel.inside_table.rowCount() == 1, timeout=5000)
    assert panel.inside_table.item(0, 0).text().startswith(third)
    assert not panel.inside_table.selectedItems()
    assert bar.stage == "done" and chosen in bar.label.text() and bar.undo_button.isVisible()
    with Store.open(station.settings.store.db_path) as store:
        exits = [event for event in store.events() if event.direction == "exit"]
    assert sorted(mask_name(event.full_name) for event in exits) == sorted([first, chosen])
    assert [event.source for event in exits if mask_name(event.full_name) == chosen] == ["manual_checkout"]


def test_undo_records_a_flagged_correcting_entry_and_expires(tmp_path: Path, station_factory: Any) -> None:
    station = station_with_three_inside(tmp_path, station_factory)
    panel, bar = station.window.guard_panel, station.window.guard_panel.action_bar
    chosen = mask_name(PEOPLE[1].full_name)
    panel.inside_table.selectRow(row_of(panel.inside_table, chosen))
    panel.checkout_button.click()
    bar.confirm_button.click()
    station.qtbot.waitUntil(lambda: panel.inside_table.rowCount() == 2, timeout=5000)
    assert bar.timer.isActive() and bar.timer.interval() == 10_000  # offered for 10 s
    bar.undo_button.click()
    station.qtbot.waitUntil(lambda: panel.inside_table.rowCount() == 3, timeout=5000)
    assert bar.stage == "undone" and chosen in bar.label.text()
    with Store.open(station.settings.store.db_path) as store:
        mine = [event for event in store.events() if event.person_key == key_of(store, chosen)]
    # entry, exit, and the correcting entry: three immutable rows, nothing updated
    assert [(event.direction, event.source) for event in mine] == [
        ("entry", "scanner"),
        ("exit", "manual_checkout"),
        ("entry", "undo_checkout"),
    ]
    assert "undo_checkout" in mine[-1].flags

    # Checked out, then back in by scanning within the 10 s: the undo records nothing more.
    panel.inside_table.selectRow(row_of(panel.inside_table, chosen))
    panel.checkout_button.click()
    bar.confirm_button.click()
    station.qtbot.waitUntil(lambda: bar.stage == "done", timeout=5000)
    views = len(station.shown_views)
    station.submit_payload(PEOPLE[1].payload.encode("utf-8"))
    assert wait_for_views(station.qtbot, station, views + 1)[-1].outcome == "entry"
    bar.undo_button.click()
    station.qtbot.wait(300)
    with Store.open(station.settings.store.db_path) as store:
        assert [event.source for event in store.events() if event.person_key == key_of(store, chosen)][3:] == [
            "manual_checkout",
            "scanner",
        ]

    # The next check-out's undo goes away after its time.
    station.guard.undo_seconds = 0.3
    panel.inside_table.selectRow(row_of(panel.inside_table, chosen))
    panel.checkout_button.click()
    bar.confirm_button.click()
    station.qtbot.waitUntil(lambda: bar.stage == "done", timeout=5000)
    station.qtbot.waitUntil(lambda: not bar.isVisible(), timeout=3000)
    assert bar.stage == "idle"


def key_of(store: Store, masked: str) -> str:
    keys = {event.person_key for event in store.events() if mask_name(event.full_name) == masked}
    (key,) = keys
    return key
