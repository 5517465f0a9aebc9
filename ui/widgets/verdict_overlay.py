"""The verdict over everything: each decision is shown across the whole page area, above whatever page is open
(guard panel, questionnaire, settings, PIN), so a visitor never scans into a screen that hides the answer.

It covers the pages (not the header), stays for `ui.result_hold_seconds` like the result panel, and a touch
closes it at once so the guard can go on with the page underneath.

Headline size: readable at 2 m means about 10 mm cap height. A 7-inch 1024×600 panel has
√(1024² + 600²) / 7 ≈ 170 pixels per inch, so 10 mm = 10 / 25.4 × 170 ≈ 67 px of cap height: 11.2 % of the
screen's height. The same fraction is used at every size (a 7-inch 800×480 panel: 133 ppi, 10 mm = 52 px ≈ 11 %).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF, QIcon, QMouseEvent
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ui.runtime.qt_compat import emit
from ui.widgets.presenter import ResultView
from ui.widgets.result_panel import ICONS_DIR

PANEL_PPI = math.hypot(1024, 600) / 7  # ≈ 169.5
HEADLINE_CAP_MM = 10.0
HEADLINE_CAP_FRACTION = HEADLINE_CAP_MM / 25.4 * PANEL_PPI / 600  # ≈ 0.112 of the screen height


def headline_pixel_size(font: QFont, cap_height_px: float) -> int:
    """The smallest pixel size at which `font`'s capital letters are at least `cap_height_px` tall."""
    probe = QFont(font)
    probe.setPixelSize(100)
    ratio = QFontMetricsF(probe).capHeight() / 100 or 0.72
    return math.ceil(cap_height_px / ratio)


def _label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class VerdictOverlay(QFrame):
    """Covers `target` (the page stack) inside its parent; follows it when the window is resized."""

    dismissed = Signal()

    def __init__(self, target: QWidget, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("verdictOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._target = target
        self.screen_height = 0  # 0: the window's height (the screen's, in kiosk mode)
        self.icon = _label("verdictIcon")
        self.title = _label("verdictTitle")
        self.reason = _label("verdictReason")
        self.name = _label("verdictName")
        self.details = _label("verdictDetails")
        self.occupancy = _label("verdictOccupancy")  # "Inside: 12 / 100", as on the result panel
        column = QVBoxLayout(self)  # the headline gets the whole width: one line at 10 mm on a 7-inch screen
        column.setContentsMargins(12, 4, 12, 4)
        column.setSpacing(2)
        column.addStretch(1)
        for label in (self.icon, self.title, self.reason, self.name, self.details):
            column.addWidget(label)
        column.addStretch(1)
        column.addWidget(self.occupancy)
        self.view: ResultView | None = None
        target.installEventFilter(self)
        self.hide()

    def show_views(self, group: list[ResultView], worst: ResultView, occupancy: str = "") -> None:
        """One decision, or several from one frame (each person on a line), in the worst one's colour."""
        self.view = worst
        self.setStyleSheet(
            f"#verdictOverlay {{ background: {worst.background}; border-radius: 12px; }}"
            f"#verdictOverlay QLabel {{ color: {worst.foreground}; background: transparent; }}"
        )
        if len(group) > 1:
            self.title.setText(f"{worst.title} ({len(group)})")
            self.name.setText("\n".join(f"{v.title}: {v.name} {v.id_tail}".strip() for v in group))
            self.details.setText(group[-1].time_text)
        else:
            self.title.setText(worst.title)
            self.name.setText(worst.name)
            self.details.setText("   ".join(part for part in (worst.id_tail, worst.time_text) if part))
        self.reason.setText(worst.reason)
        self.occupancy.setText(occupancy)
        self._fit()
        self.raise_()
        self.show()

    def clear(self) -> None:
        self.view = None
        self.hide()

    def headline_cap_height(self) -> float:
        return QFontMetricsF(self.title.font()).capHeight()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        self.clear()
        emit(self.dismissed)
        event.accept()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self._target and event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self._fit()
        return False

    def _fit(self) -> None:
        self.setGeometry(self._target.geometry())
        screen_height = self.screen_height or self.window().height()
        title_font = QFont(self.title.font())
        title_font.setBold(True)
        title_font.setPixelSize(headline_pixel_size(title_font, screen_height * HEADLINE_CAP_FRACTION))
        self.title.setFont(title_font)
        body = max(16, int(screen_height / 18))
        for label, size, bold in (
            (self.reason, body, False),
            (self.name, body, True),
            (self.details, body * 0.8, False),
        ):
            font = QFont(label.font())
            font.setPixelSize(int(size))
            font.setBold(bold)
            label.setFont(font)
        side = int(screen_height * 0.12)
        if self.view is not None:
            self.icon.setPixmap(QIcon(str(ICONS_DIR / self.view.icon)).pixmap(QSize(side, side)))
