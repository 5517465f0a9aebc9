"""USB scanners: keyboard-mode bursts caught whatever has focus (a person typing is not a scanner), and serial
scanners read as raw bytes through a real pseudo-terminal."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from kiosk.demo import demo_people
from tests.support.media import write_video
from tests.support.station import make_settings, stations, wait_for_views
from ui.runtime.scanner_burst import BurstDetector
from ui.runtime.serial_scanner import SerialScannerThread, split_lines

station_factory = pytest.fixture(stations)
PERSON = demo_people(1, seed=5)[0]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_detector_accepts_fast_runs_and_refuses_typing() -> None:
    clock = FakeClock()
    detector = BurstDetector(clock=clock)
    for ch in "038095001234":
        detector.char(ch)
        clock.now += 0.004
    assert detector.enter() == "038095001234"
    for ch in "038095001234":  # 150 ms a key: a person
        detector.char(ch)
        clock.now += 0.15
    assert detector.enter() is None
    for ch in "abc":  # fast but too short (a key chord, autorepeat)
        detector.char(ch)
        clock.now += 0.004
    assert detector.enter() is None
    detector.char("x")
    clock.now += 1.0  # typed slowly, then a fast run: only the run counts
    for ch in "HELLO-QR-1":
        detector.char(ch)
        clock.now += 0.004
    assert detector.enter() == "HELLO-QR-1"


def type_into_window(window, text: str, pause_ms: int = 0) -> None:
    """Keys as the platform delivers them: to the top-level QWindow, which routes them to the focus widget."""
    handle = window.windowHandle()
    for ch in text:  # by text: QTest's ASCII key table has no Vietnamese letters
        QTest.sendKeyEvent(QTest.KeyAction.Click, handle, Qt.Key.Key_unknown, ch, Qt.KeyboardModifier.NoModifier)
        if pause_ms:
            QTest.qWait(pause_ms)
    QTest.keyClick(handle, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier)


def focus_search_field(station) -> tuple[Any, Any]:
    """The guard panel's search box, focused: where a person would be typing when a scanner fires."""
    window = station.window
    station.open_guard_panel()
    window.guard_panel.tabs.setCurrentIndex(1)
    field = window.guard_panel.search_field
    window.activateWindow()
    field.setFocus()
    station.qtbot.waitUntil(field.hasFocus, timeout=3000)
    return window, field


def test_scanner_burst_is_scanned_even_with_a_text_field_focused(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, station={"accept_unknown": True})
    station = station_factory(settings, source=str(write_video(tmp_path / "e.avi", [(None, 30.0)], fps=5)))
    window, field = focus_search_field(station)
    type_into_window(window, PERSON.payload)
    views = wait_for_views(station.qtbot, station, 1)
    assert views[0].outcome == "entry" and views[0].name.startswith(PERSON.full_name.split()[0])
    assert field.text() == ""  # the scanned text did not stay in the search box


def test_slow_typing_is_not_a_scan(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path)
    station = station_factory(settings, source=str(write_video(tmp_path / "e.avi", [(None, 30.0)], fps=5)))
    window, field = focus_search_field(station)
    type_into_window(window, "Nguyen12", pause_ms=120)
    station.qtbot.wait(300)
    assert station.shown_views == []
    assert field.text() == "Nguyen12"  # a guard's typing reaches the field untouched


def test_a_window_opened_later_is_watched_once_it_has_the_focus(tmp_path: Path, station_factory) -> None:
    """The filter sits on windows, not on the application: a top-level window that appears after the station
    started (a dialog) is watched as soon as it gets the keyboard focus."""
    settings = make_settings(tmp_path, station={"accept_unknown": True})
    station = station_factory(settings, source=str(write_video(tmp_path / "e.avi", [(None, 30.0)], fps=5)))
    later = QWidget()
    later.resize(300, 200)
    later.show()
    later.activateWindow()
    station.qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is later.windowHandle(), timeout=3000)
    type_into_window(later, PERSON.payload)
    views = wait_for_views(station.qtbot, station, 1)
    assert views[0].outcome == "entry"
    later.close()


def test_split_lines_handles_every_terminator() -> None:
    assert split_lines(b"a\r\nb\rc\nrest") == ([b"a", b"b", b"c"], b"rest")
    assert split_lines(b"\r\n\r\n") == ([], b"")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_serial_scanner_reads_raw_bytes_by_port_name(tmp_path: Path, station_factory) -> None:
    master, slave = os.openpty()
    port = os.ttyname(slave)
    settings = make_settings(tmp_path, ui={"scanner_port": port})
    station = station_factory(settings, source=str(write_video(tmp_path / "e.avi", [(None, 30.0)], fps=5)))
    assert isinstance(station.serial_reader, SerialScannerThread)
    # Write only once the reader has the port open (opening flushes what was written before, and a loaded
    # machine may take longer than any fixed wait).
    assert station.serial_reader.opened.wait(15)
    os.write(master, PERSON.payload.encode("utf-8") + b"\r\n")  # raw UTF-8: diacritics intact
    views = wait_for_views(station.qtbot, station, 1)
    assert views[0].outcome == "entry"
    assert views[0].name.split()[0] == PERSON.full_name.split()[0]
    os.close(master)
    os.close(slave)
