"""The PIN page makes guessing slow (a growing delay after 5 wrong PINs, on an injected monotonic clock) and the
assisted entry refuses an ID of the wrong shape with a clear message (issue 10, item 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtTest import QTest

from kiosk.store import Store
from tests.support.media import write_video
from tests.support.station import make_settings, stations
from ui.pages.guard_panel import id_shape_ok
from ui.pages.pin import hash_pin, lockout_seconds

station_factory = pytest.fixture(stations)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def idle_station(tmp_path: Path, station_factory: Any, **sections: Any) -> Any:
    video = write_video(tmp_path / "empty.avi", [(None, 30.0)], fps=5)
    return station_factory(make_settings(tmp_path, **sections), source=str(video))


def enter(page: Any, pin: str) -> None:
    QTest.keyClicks(page.field, pin)
    page.submit()


def test_delay_grows_after_five_wrong_pins(tmp_path: Path, station_factory: Any) -> None:
    station = idle_station(tmp_path, station_factory, ui={"pin_hash": hash_pin("2468")})
    window, page = station.window, station.window.pin_page
    clock = FakeClock()
    page.monotonic = clock
    window.settings_button.click()
    for _ in range(4):
        enter(page, "1111")
    assert page.remaining_lock_s() == 0 and page.ok_button.isEnabled()
    enter(page, "1111")  # the fifth
    assert page.remaining_lock_s() == 30.0 and not page.ok_button.isEnabled()
    assert "30" in page.message.text()
    page.cancel_button.click()  # leaving and coming back does not reset it
    window.settings_button.click()
    assert page.remaining_lock_s() == 30.0 and "30" in page.message.text()
    clock.now += 10
    enter(page, "2468")  # even the right PIN waits
    assert window.current_page() is page and "20" in page.message.text()
    clock.now += 20
    enter(page, "9999")  # the sixth wrong one: twice as long
    assert page.remaining_lock_s() == 60.0
    clock.now += 60
    enter(page, "2468")
    assert window.current_page() is window.settings_page
    assert page.failures == 0
    assert [lockout_seconds(n) for n in (4, 5, 6, 7)] == [0.0, 30.0, 60.0, 120.0]


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        ("079301004321", True),  # CCCD
        ("0793 0100 4321", True),
        ("123456789", True),  # CMND
        ("b1234567", True),  # passport
        ("12abc", False),
        ("1234567890", False),
        ("AB123456", False),
        ("0793010043211", False),
    ],
)
def test_id_shapes(typed: str, ok: bool) -> None:
    assert id_shape_ok(typed) is ok


def test_assisted_entry_refuses_an_id_of_the_wrong_shape(tmp_path: Path, station_factory: Any) -> None:
    station = idle_station(tmp_path, station_factory, station={"questionnaire": "never"})
    station.open_guard_panel()
    form = station.window.guard_panel.assisted
    form.name.setText("Lê Văn Tám")
    form.id_number.setText("12abc")
    form.submit_button.click()
    assert "12" in form.message.text() and "CCCD" in form.message.text()
    station.qtbot.wait(200)
    with Store.open(station.settings.store.db_path) as store:
        assert store.count_events() == 0
    form.id_number.setText("c7654321")
    form.submit_button.click()
    station.qtbot.waitUntil(lambda: bool(station.shown_views), timeout=5000)
    with Store.open(station.settings.store.db_path) as store:
        (event,) = store.inside()
    assert event.id_number == "C7654321" and event.source == "assisted"
