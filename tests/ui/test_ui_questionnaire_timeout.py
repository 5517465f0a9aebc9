"""The questionnaire never blocks the door (issue 10, item 4): left alone for `ui.questionnaire_timeout_seconds`
it goes back to the idle screen with nothing recorded; answering starts the time again. Its temperature starts
empty and must be typed in the daily health update mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtTest import QTest

from kiosk.config import UiSettings
from kiosk.demo import demo_people
from kiosk.store import Store
from tests.support.media import write_video
from tests.support.station import make_settings, stations

station_factory = pytest.fixture(stations)

PERSON = demo_people(1, seed=11)[0]


def station_asking(tmp_path: Path, station_factory: Any, timeout_s: float, **station: Any) -> Any:
    settings = make_settings(
        tmp_path, station={"questionnaire": "always", **station}, ui={"questionnaire_timeout_seconds": timeout_s}
    )
    video = write_video(tmp_path / "empty.avi", [(None, 30.0)], fps=5)
    made = station_factory(settings, source=str(video))
    made.submit_payload(PERSON.payload.encode("utf-8"))
    made.qtbot.waitUntil(lambda: made.window.current_page() is made.window.questionnaire, timeout=5000)
    return made


def test_default_timeout_is_a_minute() -> None:
    assert UiSettings().questionnaire_timeout_seconds == 60.0


def test_an_abandoned_questionnaire_goes_back_to_the_door_with_nothing_recorded(
    tmp_path: Path, station_factory: Any
) -> None:
    station = station_asking(tmp_path, station_factory, timeout_s=1.0)
    window, page = station.window, station.window.questionnaire
    assert station.declarations.timeout.isActive() and station.declarations.timeout.interval() == 1000
    station.qtbot.wait(700)
    page.answer("fever", False)  # someone is answering: the minute (here, second) starts again
    station.qtbot.wait(600)
    assert window.current_page() is page
    station.qtbot.waitUntil(lambda: window.current_page() is window.station_page, timeout=3000)
    assert window.result_panel.view is None  # the idle screen
    assert not station.shown_views  # no verdict: the door is simply free again
    with Store.open(station.settings.store.db_path) as store:
        assert store.count_events() == 0
    page.done_button.click()  # a late tap on the hidden page records nothing either
    station.qtbot.wait(200)
    with Store.open(station.settings.store.db_path) as store:
        assert store.count_events() == 0


def test_temperature_starts_empty_and_is_required_in_health_mode(tmp_path: Path, station_factory: Any) -> None:
    station = station_asking(tmp_path, station_factory, timeout_s=60.0)
    station.window.questionnaire.cancel_button.click()
    station.window.guard_panel.health_mode.setChecked(True)
    station.submit_payload(PERSON.payload.encode("utf-8"))
    page = station.window.questionnaire
    station.qtbot.waitUntil(lambda: station.window.current_page() is page, timeout=5000)
    page.answer_all_no()
    assert page.temperature.text() == "" and not page.done_button.isEnabled()
    QTest.keyClicks(page.temperature, "36,7")  # a comma, as Vietnamese write it
    assert page.done_button.isEnabled()
    page.done_button.click()
    station.qtbot.waitUntil(lambda: bool(station.shown_views) and station.shown_views[-1].outcome == "entry")
    with Store.open(station.settings.store.db_path) as store:
        (event,) = store.inside()
    assert event.details["declaration"]["temperature_c"] == 36.7
