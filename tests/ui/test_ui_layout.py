"""The window fits a 7-inch screen in every state (issue 10, item 1): an enrolled station with every status
warning on, visiting every page, at 1024×600 and 800×480; nothing visible lies outside the window.

Offscreen there is no screen to clamp against, so the check is the window's own: its minimum size hint and its
size fit the target, and every visible widget's geometry, mapped to the window, lies inside that size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from kiosk.demo import demo_people
from sync.worker import SyncStatus
from tests.support.media import write_video
from tests.support.station import make_settings, stations, wait_for_views

station_factory = pytest.fixture(stations)

SIZES = [(1024, 600), (800, 480)]
PERSON = demo_people(1, seed=11)[0]


class WarningWorker:
    """A sync worker whose status turns every warning of the status bar on."""

    def start(self) -> None: ...

    def stop(self, timeout: float | None = 10.0) -> None: ...

    def wake(self, force: bool = False) -> None: ...

    def status(self) -> SyncStatus:
        old = datetime.now(UTC) - timedelta(days=9)
        return SyncStatus(
            online=True,
            pending=123456,
            refused=4321,
            last_success=datetime.now(UTC),
            token_refused=True,
            offset_warning=True,
            fetched_at={"keys": old, "trust-list": None, "config": old},
        )


def in_scroll_area(widget: QWidget, window: QWidget) -> bool:
    """Inside a scroll area the content may be taller than the screen: the scroll area itself must fit."""
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def outside(window: QWidget, width: int, height: int) -> list[str]:
    """Every visible descendant whose rectangle, mapped to the window, is not inside width × height."""
    bounds = QRect(0, 0, width, height)
    found = []
    for child in window.findChildren(QWidget):
        if not child.isVisible() or child.isWindow() or in_scroll_area(child, window):
            continue
        top_left = child.mapTo(window, QPoint(0, 0))
        rect = QRect(top_left, child.size())
        if not bounds.contains(rect):
            found.append(f"{type(child).__name__}({child.objectName()!r}) at {rect.getRect()}")
    return found


def assert_fits(station: Any, width: int, height: int, state: str) -> None:
    window = station.window
    station.qtbot.wait(50)  # let layouts settle after the page change
    hint = window.minimumSizeHint()
    assert hint.width() <= width and hint.height() <= height, f"{state}: minimum {hint.width()}×{hint.height()}"
    assert window.width() <= width and window.height() <= height, f"{state}: window {window.width()}×{window.height()}"
    assert not outside(window, width, height), f"{state}: {outside(window, width, height)}"


def pages(station: Any) -> list[tuple[str, Callable[[], None]]]:
    window = station.window

    def verdict() -> None:
        count = len(station.shown_views)
        station.submit_payload(PERSON.payload.encode("utf-8"))
        wait_for_views(station.qtbot, station, count + 1)

    def settings() -> None:
        station.open_settings()
        # What an enrolment leaves there: a long one-line message (an error naming a URL, say).
        window.settings_page.show_message("https://checkpoint.example.invalid/api/v1/kiosks/enrol?code=" + "x" * 120)

    def questionnaire() -> None:
        window.questionnaire.start(with_temperature=True, who="Nguyễn V. A.")
        window.show_page(window.questionnaire)

    def pin() -> None:
        window.pin_page.ask("scrypt$16384$8$1$00$00", "settings")
        window.show_page(window.pin_page)

    return [
        ("idle", lambda: window.show_page(window.station_page)),
        ("verdict", verdict),
        ("guard panel", station.open_guard_panel),
        ("settings", settings),
        ("questionnaire", questionnaire),
        ("pin", pin),
    ]


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_page_fits_with_every_warning(
    tmp_path: Path, station_factory: Any, width: int, height: int, language: str
) -> None:
    settings = make_settings(
        tmp_path,
        server={"url": "https://checkpoint.example.invalid", "token": "t0ken"},
        station={"language": language, "venue_name": "Trung tâm Thương mại Sài Gòn Centre, tầng 3, cổng số 2"},
        ui={"result_hold_seconds": 30.0},
    )
    video = write_video(tmp_path / "empty.avi", [(None, 30.0)], fps=5)
    station = station_factory(settings, source=str(video))
    station.sync_worker = WarningWorker()
    window = station.window
    window.status.pin_missing = True
    station.refresh_status()
    station.status.camera("cannot_open")
    warning = window.status.warning
    assert "No staff PIN set" in warning.toolTip() or "Chưa đặt mã PIN" in warning.toolTip()
    window.resize(width, height)
    for state, show in pages(station):
        show()
        assert_fits(station, width, height, state)
    assert warning.is_elided()  # every warning at once does not fit in one line: elided, whole in the tooltip
