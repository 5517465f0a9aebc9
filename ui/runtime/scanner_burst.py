"""USB 2D scanners in keyboard mode: tell a scanner's burst of keys from a person typing.

A scanner "types" a whole code within a few tens of milliseconds and ends with Enter; a person leaves 80 ms or
more between keys. `BurstDetector` is plain logic (no Qt, testable with any clock); `ScannerKeyFilter` is the Qt
event filter on the window that has the keyboard focus, so that bursts are caught whatever widget has focus.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QWindow
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit

from ui.runtime.qt_compat import emit

MAX_GAP_S = 0.05  # scanners: 1-20 ms between keys; the fastest typists: ~60 ms, most people 120-250 ms
MIN_LENGTH = 6  # shorter runs are keyboard chords or autorepeat, not codes


class BurstDetector:
    """Feed it characters and Enter; `enter()` returns the burst text when what came before was a scanner."""

    def __init__(
        self, max_gap_s: float = MAX_GAP_S, min_length: int = MIN_LENGTH, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_gap_s = max_gap_s
        self.min_length = min_length
        self._clock = clock
        self._chars: list[str] = []
        self._last = -1.0

    def char(self, text: str) -> None:
        """One typed character; a slow gap starts a new run (the person typing before does not count)."""
        now = self._clock()
        if not self._chars or now - self._last > self.max_gap_s:
            self._chars = []
        self._chars.append(text)
        self._last = now

    def enter(self) -> str | None:
        """Enter pressed: the run's text if it was fast and long enough, else None. Resets the run."""
        now = self._clock()
        text = "".join(self._chars)
        fast = bool(self._chars) and now - self._last <= self.max_gap_s
        self._chars = []
        return text if fast and len(text) >= self.min_length else None

    @property
    def in_burst(self) -> bool:
        """A fast run is in progress (its keys should not reach the focused widget)."""
        return len(self._chars) >= 2 and self._clock() - self._last <= self.max_gap_s


class ScannerKeyFilter(QObject):
    """Key filter of the application's windows; emits `scanned(bytes)` for each scanner burst.

    It watches the top-level windows (`attach`), not the whole application: an application-wide filter in
    Python is called for every event of every object (each paint, timer and signal across threads), and on the
    station that was about a sixth of the GUI thread's time for the few key presses it wants.

    Each key is counted once: at the top-level window, where the platform delivers it before Qt passes it on to
    the focused widget (and then to its parents, which this filter would otherwise see too). Keys of a detected
    burst still reach a focused text field; on the final Enter the burst text is removed from that field again,
    so a guard typing a search does not end up with a scanned code in it.
    """

    scanned = Signal(bytes)

    def __init__(self, detector: BurstDetector | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.detector = detector or BurstDetector()
        self._attached = False

    def attach(self, app: QGuiApplication) -> None:
        """Watch every top-level window, and each window that gets the keyboard focus later (keys go only to the
        focused window: a dialog opened later, the on-screen keyboard's)."""
        for window in app.topLevelWindows():
            window.installEventFilter(self)  # once: installing again only moves it to the front
        if not self._attached:
            app.focusWindowChanged.connect(self._watch)
            self._attached = True

    def detach(self, app: QGuiApplication) -> None:
        if self._attached:
            app.focusWindowChanged.disconnect(self._watch)
            self._attached = False
        for window in app.topLevelWindows():
            window.removeEventFilter(self)

    def _watch(self, window: QWindow | None) -> None:
        if window is not None:
            window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() != QEvent.Type.KeyPress or not isinstance(watched, QWindow):
            return False
        assert isinstance(event, QKeyEvent)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            text = self.detector.enter()
            if text is None:
                return False
            self._remove_from_focused(text)
            emit(self.scanned, text.encode("utf-8"))
            return True  # the Enter was the scanner's, not a button press
        if event.text() and event.text().isprintable():
            self.detector.char(event.text())
        return False

    @staticmethod
    def _remove_from_focused(text: str) -> None:
        widget = QApplication.focusWidget()
        if isinstance(widget, QLineEdit) and widget.text().endswith(text):
            widget.setText(widget.text()[: -len(text)])
        elif isinstance(widget, QPlainTextEdit | QTextEdit):
            content = widget.toPlainText()
            if content.endswith(text):
                widget.setPlainText(content[: -len(text)])
