"""Touch (issue 10, item 6): every button on every page is at least 48 px both ways, list rows 48 px, scroll
bars 24 px; every list and scroll area scrolls with a swipe (QScroller); the on-screen keyboard (Qt Virtual
Keyboard) comes up for a text field when `ui.on_screen_keyboard` is set, and not otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QScrollBar, QTabBar, QTableView

from kiosk.credentials.base import Credential
from kiosk.demo import demo_people
from kiosk.pipeline import build_pipeline
from kiosk.store import Store
from tests.support.media import write_video
from tests.support.paths import REPO_ROOT
from tests.support.station import make_settings, stations
from tests.ui.test_ui_layout import pages
from ui.app import make_application
from ui.pages.guard_panel import GuardPanel
from ui.runtime.touch import (
    ROW_HEIGHT_PX,
    TOUCH_TARGET_PX,
    has_kinetic_scrolling,
    make_touch_friendly,
    use_on_screen_keyboard,
)

station_factory = pytest.fixture(stations)


def small_targets(window: Any) -> list[str]:
    found = []
    for button in window.findChildren(QAbstractButton):
        if button.isVisible() and (button.height() < TOUCH_TARGET_PX or button.width() < TOUCH_TARGET_PX):
            found.append(f"{type(button).__name__} {button.text()!r} {button.width()}×{button.height()}")
    for bar in window.findChildren(QTabBar):
        for index in range(bar.count() if bar.isVisible() else 0):
            if bar.tabRect(index).height() < TOUCH_TARGET_PX:
                found.append(f"tab {bar.tabText(index)!r} {bar.tabRect(index).height()} high")
    for scroll in window.findChildren(QScrollBar):
        thickness = scroll.width() if scroll.orientation() == Qt.Orientation.Vertical else scroll.height()
        if scroll.isVisible() and thickness < 24:
            found.append(f"scroll bar {thickness} px")
    return found


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(("width", "height"), [(1024, 600), (800, 480)])
def test_every_button_on_every_page_is_a_48_px_target(
    tmp_path: Path, station_factory: Any, width: int, height: int, language: str
) -> None:
    settings = make_settings(tmp_path, station={"language": language, "questionnaire": "assisted"})
    video = write_video(tmp_path / "empty.avi", [(None, 30.0)], fps=5)
    station = station_factory(settings, source=str(video))
    window = station.window
    window.resize(width, height)
    checked = 0
    for state, show in pages(station):
        show()
        station.back_to_idle()  # the verdict covers the page; here the page's own buttons are measured
        station.qtbot.wait(50)
        assert not small_targets(window), f"{state}: {small_targets(window)}"
        checked += sum(b.isVisible() for b in window.findChildren(QAbstractButton))
    assert checked > 30  # the walk saw the pages' buttons, not an empty window


def test_every_list_and_scroll_area_has_kinetic_scrolling(tmp_path: Path, station_factory: Any) -> None:
    settings = make_settings(tmp_path)
    video = write_video(tmp_path / "empty.avi", [(None, 30.0)], fps=5)
    station = station_factory(settings, source=str(video))
    areas = station.window.findChildren(QAbstractScrollArea)
    assert len(areas) >= 4 and all(has_kinetic_scrolling(area) for area in areas)
    views = station.window.findChildren(QTableView)
    assert views and all(view.verticalHeader().defaultSectionSize() >= ROW_HEIGHT_PX for view in views)


def test_the_roll_call_scrolls_with_a_swipe_and_rows_are_48_px(tmp_path: Path, qtbot: Any) -> None:
    """The guard panel's real table over a real store of 40 people: a finger swipe scrolls it, selects nobody."""
    make_application()
    settings = make_settings(tmp_path)
    store = Store.open(settings.store.db_path)
    pipeline = build_pipeline(settings, store)
    for number, person in enumerate(demo_people(40, seed=5)):
        visitor = Credential(kind="manual", id_number=f"0790010{number:05d}", full_name=person.full_name)
        pipeline.record_assisted(visitor, datetime.now(UTC))
    panel = GuardPanel(store, "Asia/Ho_Chi_Minh")
    qtbot.addWidget(panel)
    make_touch_friendly(panel)
    panel.resize(800, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.refresh()
    table = panel.inside_table
    assert table.rowCount() == 40 and table.rowHeight(0) >= ROW_HEIGHT_PX
    viewport = table.viewport()
    start = QPoint(viewport.width() // 2, viewport.height() - 10)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 31):  # a finger moving up over 240 px
        QTest.mouseMove(viewport, start - QPoint(0, step * 8), delay=15)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start - QPoint(0, 240), delay=15)
    qtbot.waitUntil(lambda: table.verticalScrollBar().value() > 0, timeout=10_000)
    assert not table.selectedItems()  # the swipe scrolled; it selected nobody
    store.close()


KEYBOARD_PROBE = """
import json, sys
from ui.runtime.touch import use_on_screen_keyboard
problem = use_on_screen_keyboard(sys.argv[1] == "on")
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLineEdit
app = QApplication(["probe"])
field = QLineEdit()
field.show()
field.activateWindow()
field.setFocus()
def probe():
    method = QGuiApplication.inputMethod()
    method.show()  # what Qt does when a text field takes the focus on a touch
    rect = method.keyboardRectangle()
    print(json.dumps({"problem": problem, "visible": method.isVisible(), "height": rect.height(),
                      "locale": method.locale().name()}))
    app.quit()
QTimer.singleShot(1500, probe)
app.exec()
"""


@pytest.mark.parametrize("enabled", [True, False], ids=["on", "off"])
def test_the_on_screen_keyboard_comes_up_for_a_text_field(enabled: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "QT_IM_MODULE"}
    env.update(QT_QPA_PLATFORM="offscreen", LC_ALL="vi_VN.UTF-8", PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run(
        [sys.executable, "-c", KEYBOARD_PROBE, "on" if enabled else "off"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["problem"] == ""
    if enabled:
        assert probe["visible"] and probe["height"] > 100  # Qt Virtual Keyboard's panel, not a stub
        assert probe["locale"] == "vi_VN"  # its layout follows the kiosk's locale
    else:
        assert probe["height"] == 0


def test_the_setting_sets_the_input_method_before_qt_starts() -> None:
    env: dict[str, str] = {}
    assert use_on_screen_keyboard(False, env) == "" and "QT_IM_MODULE" not in env
    assert use_on_screen_keyboard(True, env) == "" and env["QT_IM_MODULE"] == "qtvirtualkeyboard"
