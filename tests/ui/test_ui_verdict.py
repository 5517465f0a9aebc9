"""A verdict is never hidden (issue 10, item 3): a decision made while another page is open shows over it, with
its sound; the headline is at least 10 mm tall on a 7-inch screen; amber says why; duplicate is not "attention".
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from kiosk.demo import demo_people
from tests.support.media import write_video
from tests.support.station import make_settings, stations, wait_for_views
from ui.widgets.presenter import STYLES, attention_reason, headline, message_view, reason_text
from ui.widgets.verdict_overlay import HEADLINE_CAP_FRACTION, PANEL_PPI

station_factory = pytest.fixture(stations)
PEOPLE = demo_people(3, seed=21)
MM_PER_INCH = 25.4


def idle_video(tmp_path: Path) -> str:
    return str(write_video(tmp_path / "empty.avi", [(None, 30.0)], fps=5))


def open_pages(station: Any) -> list[tuple[str, Any]]:
    window = station.window

    def assisted_questionnaire() -> None:
        station.open_guard_panel()
        form = window.guard_panel.assisted
        form.name.setText("Trần Thị Bích Ngọc")
        form.id_number.setText("079301004321")
        form.submit_button.click()

    def pin() -> None:
        window.pin_page.ask("scrypt$16384$8$1$00$00", "settings")
        window.show_page(window.pin_page)

    return [
        ("guard panel", station.open_guard_panel),
        ("questionnaire", assisted_questionnaire),
        ("settings", station.open_settings),
        ("pin", pin),
    ]


def topmost_at_centre(window: Any, widget: Any) -> Any:
    centre = widget.mapTo(window, widget.rect().center())
    return window.childAt(centre)


def covers(overlay: Any, found: Any) -> bool:
    while found is not None:
        if found is overlay:
            return True
        found = found.parentWidget()
    return False


@pytest.mark.parametrize("page", ["guard panel", "questionnaire", "settings", "pin"])
def test_a_scan_behind_another_page_shows_over_it_with_its_sound(
    tmp_path: Path, station_factory: Any, page: str
) -> None:
    settings = make_settings(tmp_path, station={"questionnaire": "assisted"})
    station = station_factory(settings, source=idle_video(tmp_path))
    window = station.window
    dict(open_pages(station))[page]()
    under = window.current_page()
    assert under is not window.station_page
    overlay = window.verdict
    assert not overlay.isVisible()
    sounds = len(station.sounds_played)
    station.submit_payload(PEOPLE[0].payload.encode("utf-8"))
    view = wait_for_views(station.qtbot, station, 1)[0]
    assert view.outcome == "entry"
    assert overlay.isVisible() and overlay.view == view
    assert overlay.geometry().contains(window.pages.geometry())  # the whole page area, not a corner
    assert covers(overlay, topmost_at_centre(window, under))  # on top: what the visitor sees is the verdict
    assert overlay.title.text() == view.title and view.name in overlay.name.text()
    assert station.sounds_played[sounds:] == ["accept"]
    assert window.current_page() is under  # the guard's page is still there underneath
    QTest.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))  # a touch: back to the page
    assert not overlay.isVisible() and window.current_page() is under


def test_the_verdict_goes_away_after_the_hold_time(tmp_path: Path, station_factory: Any) -> None:
    settings = make_settings(tmp_path, ui={"result_hold_seconds": 0.5})
    station = station_factory(settings, source=idle_video(tmp_path))
    station.open_guard_panel()
    station.submit_payload(PEOPLE[1].payload.encode("utf-8"))
    wait_for_views(station.qtbot, station, 1)
    assert station.window.verdict.isVisible()
    station.qtbot.waitUntil(lambda: not station.window.verdict.isVisible(), timeout=5000)
    assert station.window.current_page() is station.window.guard_panel


def test_the_headline_fraction_is_10_mm_on_a_7_inch_panel() -> None:
    assert PANEL_PPI == pytest.approx(169.5, abs=0.5)
    cap_px_at_600 = HEADLINE_CAP_FRACTION * 600
    assert cap_px_at_600 / PANEL_PPI * MM_PER_INCH == pytest.approx(10.0, abs=0.01)


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(("width", "height", "ppi"), [(1024, 600, 169.5), (800, 480, 133.3), (1920, 1080, 91.8)])
def test_every_verdict_has_a_10_mm_headline_and_nothing_clipped(
    tmp_path: Path, station_factory: Any, language: str, width: int, height: int, ppi: float
) -> None:
    """Every style with its longest text, at each screen (7-inch at the small sizes, a 24-inch 1080p monitor)."""
    settings = make_settings(tmp_path, station={"language": language})
    station = station_factory(settings, source=idle_video(tmp_path))
    window = station.window
    window.resize(width, height)
    station.qtbot.wait(50)
    overlay = window.verdict
    moment = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    reasons = {"warning": attention_reason(("id_mismatch",)), "rejected": reason_text("unknown_key")}
    for style in STYLES:
        view = message_view(style, headline(style), reasons.get(style, reason_text(style)), moment, "UTC")
        station.results.back_to_idle()  # one at a time: views within a second are shown together
        station.results.show_view(view)
        station.qtbot.wait(20)
        cap_mm = overlay.headline_cap_height() / ppi * MM_PER_INCH
        assert cap_mm >= (10.0 if width < 1920 else 10.0 * 91.8 / ppi), f"{style}: {cap_mm:.1f} mm"
        for label in overlay.findChildren(QLabel):
            if label.text() and label.pixmap().isNull():
                needed = label.heightForWidth(label.width())
                assert needed <= label.height() + 1, f"{style} {label.objectName()}: {needed} > {label.height()}"
        assert overlay.geometry().bottom() < window.height()


def test_duplicate_and_needs_attention_look_different() -> None:
    duplicate, attention = STYLES["duplicate"], STYLES["warning"]
    assert duplicate[0] != attention[0] and duplicate[2] != attention[2]  # colour and icon
    assert headline("duplicate") != headline("warning")


def test_amber_says_why_and_what_to_do_not_the_headline_again() -> None:
    for flags in (("symptoms",), ("id_mismatch",), ("unsafe_text",)):
        reason = attention_reason(flags)
        assert reason.lower() != headline("warning").lower() and "staff" in reason
    assert "ID number" in attention_reason(("id_mismatch",))
    assert "symptoms" in attention_reason(("symptoms",))


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(("width", "height"), [(1024, 600), (800, 480)])
def test_the_idle_screen_text_is_not_clipped(
    tmp_path: Path, station_factory: Any, language: str, width: int, height: int
) -> None:
    settings = make_settings(
        tmp_path, station={"language": language, "safety_level": "yellow", "safety_assessed_on": "2026-11-20"}
    )
    station = station_factory(settings, source=idle_video(tmp_path))
    station.window.resize(width, height)
    station.qtbot.wait(50)
    panel = station.window.result_panel
    for camera_down in (False, True):
        panel.set_camera_down(camera_down)
        station.qtbot.wait(20)
        for label in panel.findChildren(QLabel):
            if label.text() and label.isVisible() and label.wordWrap():
                needed = label.heightForWidth(label.width())
                assert needed <= label.height() + 1, f"{label.text()!r}: {needed} > {label.height()}"
