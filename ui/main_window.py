"""The kiosk window: a header, a stack of pages (station, guard, questionnaire, PIN, settings), the status bar.

A view only: the Station controller wires it to the pipeline. In kiosk mode Escape and closing the window are
routed to `exit_requested` (the controller asks for the PIN) instead of closing.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from ui.pages.guard_panel import GuardPanel
from ui.pages.pin import PinPage
from ui.pages.questionnaire import QuestionnairePage
from ui.pages.settings import SettingsPage
from ui.protocols import EventReader
from ui.runtime.qt_compat import emit
from ui.runtime.touch import make_touch_friendly
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.preview import PreviewView
from ui.widgets.result_panel import ICONS_DIR, ResultPanel
from ui.widgets.status_bar import StationStatusBar
from ui.widgets.verdict_overlay import VerdictOverlay


class MainWindow(QMainWindow):
    exit_requested = Signal()

    def __init__(self, store: EventReader, timezone: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowIcon(QIcon(str(ICONS_DIR / "qr.svg")))
        self.kiosk_mode = False
        self.allow_close = False
        self.venue_name = ""
        self.language = "vi"
        self.zone = ZoneInfo(timezone)  # the venue's clock, the same as on every result
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self._header())
        column.addWidget(self._pages(store, timezone), 1)
        self.setCentralWidget(central)
        self.verdict = VerdictOverlay(self.pages, central)  # over every page: a verdict is never hidden
        self.status = StationStatusBar()
        self.setStatusBar(self.status)
        self._clock_timer = QTimer(self)
        self._clock_timer.timeout.connect(self._tick)
        self._clock_timer.start(1000)
        self._tick()
        self.retranslate()
        make_touch_friendly(self)  # every list and scroll area: swipe to scroll, 48 px rows

    def _header(self) -> QWidget:
        """Venue name, clock, and the guard, language and settings buttons."""
        self.venue = ElidedLabel()  # a long venue name must not push the buttons off a 7-inch screen
        self.venue.setObjectName("venue")
        self.clock = QLabel()
        self.clock.setObjectName("clock")
        self.guard_button = QPushButton()
        self.language_button = QPushButton()
        self.settings_button = QPushButton()
        for button in (self.guard_button, self.language_button, self.settings_button):
            button.setObjectName("headerButton")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Enter from a scanner must not press them
        header = QHBoxLayout()
        header.setContentsMargins(12, 6, 12, 6)
        header.addWidget(self.venue, 1)
        header.addWidget(self.clock)
        header.addSpacing(12)
        header.addWidget(self.guard_button)
        header.addWidget(self.language_button)
        header.addWidget(self.settings_button)
        header_widget = QWidget()
        header_widget.setObjectName("header")
        header_widget.setLayout(header)
        return header_widget

    def _pages(self, store: EventReader, timezone: str) -> QStackedWidget:
        """The station page (preview and result) and the pages shown instead of it."""
        self.preview = PreviewView()
        self.result_panel = ResultPanel()
        station_page = QWidget()
        row = QHBoxLayout(station_page)
        row.setContentsMargins(12, 12, 12, 12)
        row.setSpacing(12)
        row.addWidget(self.preview, 3)
        row.addWidget(self.result_panel, 2)

        self.guard_panel = GuardPanel(store, timezone)
        self.questionnaire = QuestionnairePage()
        self.pin_page = PinPage()
        self.settings_page = SettingsPage()
        self.pages = QStackedWidget()
        for page in (station_page, self.guard_panel, self.questionnaire, self.pin_page, self.settings_page):
            self.pages.addWidget(page)
        self.station_page = station_page
        return self.pages

    def show_page(self, page: QWidget) -> None:
        self.pages.setCurrentWidget(page)

    def current_page(self) -> QWidget | None:
        return self.pages.currentWidget()

    def set_venue(self, name: str) -> None:
        self.venue_name = name
        self.retranslate()

    def _tick(self) -> None:
        self.clock.setText(datetime.now(self.zone).strftime("%H:%M"))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() == Qt.Key.Key_Escape and self.kiosk_mode:
            emit(self.exit_requested)
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if self.kiosk_mode and not self.allow_close:
            event.ignore()  # Alt+F4 and the window manager's close button: the PIN decides
            emit(self.exit_requested)
            return
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("QR Checkpoint"))
        self.venue.setText(self.venue_name or self.tr("QR Checkpoint"))
        self.guard_button.setText(self.tr("Guard"))
        # The button names the language it switches to, in that language.
        self.language_button.setText("English" if self.language == "vi" else "Tiếng Việt")
        self.settings_button.setText(self.tr("Settings"))
