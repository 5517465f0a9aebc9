"""The big result panel: idle instructions, or a decision in colour with icon, reason, masked name, time.

Fonts scale with the panel's height so the same layout reads well on a 7-inch 1024×600 screen and on 1080p.

Several decisions arriving together (one frame held a parent's and the children's cards) are shown together:
each person on a line with their own outcome, the panel in the colour of the most serious one."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QFont, QIcon, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ui.widgets.presenter import ResultView

ICONS_DIR = Path(__file__).resolve().parents[2] / "assets" / "icons"
IDLE_BG, IDLE_FG = "#20262e", "#ffffff"
# The venue's self-assessed COVID safety level: chip background and text colour (dark text on yellow and orange
# for contrast). The level is also written out in words: colour alone is not enough.
SAFETY_COLOURS = {
    "green": ("#1b7f3b", "#ffffff"),
    "yellow": ("#f5c518", "#1a1a1a"),
    "orange": ("#ef7d16", "#1a1a1a"),
    "red": ("#b3261e", "#ffffff"),
}


GROUP_WINDOW_S = 1.0  # decisions closer together than this came from the same frame (or the next few)
SERIOUSNESS = ("entry", "exit", "duplicate", "warning", "full", "rejected")  # the panel takes the worst colour


def most_serious(views: list[ResultView]) -> ResultView:
    return max(views, key=lambda v: SERIOUSNESS.index(v.outcome) if v.outcome in SERIOUSNESS else len(SERIOUSNESS))


def _label(wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(wrap)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class ResultPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.camera_down = False  # the idle screen then says so instead of asking for a code
        self.setObjectName("resultPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.view: ResultView | None = None
        self.group: list[ResultView] = []  # the decisions shown together (one, usually)
        self._shown_at = 0.0
        self.hint = False  # "hold still" shown on the idle screen
        self.icon = _label()
        self.title = _label()
        self.reason = _label()
        self.name = _label()
        self.details = _label()
        self.occupancy = _label()
        self.safety = _label()  # the venue's COVID safety level chip (idle screen only)
        self.safety_level = ""
        self.safety_assessed_on = ""
        for label, name in (
            (self.safety, "safety"),
            (self.title, "title"),
            (self.reason, "reason"),
            (self.name, "name"),
            (self.details, "details"),
            (self.occupancy, "occupancy"),
        ):
            label.setObjectName(name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addWidget(self.safety)
        layout.addStretch(1)
        for widget in (self.icon, self.title, self.reason, self.name, self.details):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.occupancy)
        self.occupancy_value = ""
        # What was last applied: a style sheet re-polishes every child and an icon is an SVG rendered anew, so
        # neither is redone for a refresh that changes nothing (the idle screen refreshes on every flicker).
        self._applied_sheets: dict[QWidget, str] = {}
        self._applied_icon: tuple[str, int] | None = None
        self.show_idle()

    # -- states
    def show_idle(self, hint: bool = False) -> None:
        self.view = None
        self.group = []
        self.hint = hint
        self._refresh()

    def set_camera_down(self, down: bool) -> None:
        self.camera_down = down
        self._refresh()

    def show_result(self, view: ResultView) -> None:
        now = time.monotonic()
        together = self.view is not None and now - self._shown_at < GROUP_WINDOW_S
        self.group = [*self.group, view] if together else [view]
        self._shown_at = now
        self.view = view
        self._refresh()

    def set_safety_level(self, level: str, assessed_on: str = "") -> None:
        """The venue's level ("" hides the chip: not assessed) and the date it was assessed ("YYYY-MM-DD")."""
        self.safety_level = level if level in SAFETY_COLOURS else ""
        self.safety_assessed_on = assessed_on
        self._refresh_safety()

    def safety_text(self) -> str:
        """E.g. "COVID safety level: Yellow · assessed 20/11/2026"; "" when the venue has not assessed it."""
        names = {
            "green": self.tr("Green"),
            "yellow": self.tr("Yellow"),
            "orange": self.tr("Orange"),
            "red": self.tr("Red"),
        }
        if not self.safety_level:
            return ""
        text = self.tr("COVID safety level: %1").replace("%1", names[self.safety_level])
        try:
            assessed = date.fromisoformat(self.safety_assessed_on)
        except ValueError:  # missing or malformed date: show the level alone rather than a wrong date
            return text
        # No-break spaces keep "assessed 20/11/2026" whole: a narrow panel wraps between the level and the date.
        when = self.tr("assessed %1").replace("%1", assessed.strftime("%d/%m/%Y")).replace(" ", "\u00a0")
        return text + "\u00a0· " + when

    def set_occupancy(self, text: str) -> None:
        self.occupancy_value = text
        self._refresh_occupancy()

    # -- drawing
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self._refresh()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        self._apply_fonts()
        self._refresh_icon()
        super().resizeEvent(event)

    def _refresh(self) -> None:
        view = self.view
        if view is None and self.camera_down:  # do not ask visitors to show a code to a dead camera
            self._colours(IDLE_BG, IDLE_FG)
            self.title.setText(self.tr("Camera not working"))
            self.reason.setText(self.tr("Please see the staff"))
            self.name.setText("")
            self.details.setText("")
        elif view is None:
            self._colours(IDLE_BG, IDLE_FG)
            self.title.setText(self.tr("Show your personal QR code to the camera"))
            self.reason.setText(
                self.tr("Hold still: the code is blurred")
                if self.hint
                else self.tr("Hold the code about 20 cm from the camera")
            )
            self.name.setText("")
            self.details.setText(self.tr("Citizen ID (CCCD), PC-Covid or personal QR"))
        elif len(self.group) > 1:
            worst = most_serious(self.group)
            self._colours(worst.background, worst.foreground)
            self.title.setText(f"{worst.title} ({len(self.group)})")
            self.reason.setText(worst.reason)
            self.name.setText("\n".join(f"{v.title}: {v.name} {v.id_tail}".strip() for v in self.group))
            self.details.setText(view.time_text)
        else:
            self._colours(view.background, view.foreground)
            self.title.setText(view.title)
            self.reason.setText(view.reason)
            self.name.setText(view.name)
            self.details.setText("   ".join(part for part in (view.id_tail, view.time_text) if part))
        self._refresh_icon()
        self._refresh_occupancy()
        self._refresh_safety()

    def _refresh_safety(self) -> None:
        text = self.safety_text() if self.view is None else ""
        self.safety.setText(text)
        self.safety.setVisible(bool(text))
        if text:
            background, foreground = SAFETY_COLOURS[self.safety_level]
            # The label's own sheet wins over the panel's "#resultPanel QLabel" rule (transparent background).
            self._style(
                self.safety,
                f"QLabel {{ background: {background}; color: {foreground}; border-radius: 10px; padding: 6px 10px; }}",
            )

    def _refresh_occupancy(self) -> None:
        text = self.occupancy_value
        self.occupancy.setText(self.tr("Inside: %1").replace("%1", text) if text else "")

    def _refresh_icon(self) -> None:
        name = most_serious(self.group).icon if self.group else "qr.svg"
        side = max(48, int(self.height() * 0.2))
        if self._applied_icon == (name, side):
            return
        self._applied_icon = (name, side)
        self.icon.setPixmap(QIcon(str(ICONS_DIR / name)).pixmap(QSize(side, side)))

    def _colours(self, background: str, foreground: str) -> None:
        self._style(
            self,
            f"#resultPanel {{ background: {background}; border-radius: 12px; }}"
            f"#resultPanel QLabel {{ color: {foreground}; background: transparent; }}",
        )

    def _style(self, widget: QWidget, sheet: str) -> None:
        if self._applied_sheets.get(widget) != sheet:
            self._applied_sheets[widget] = sheet
            widget.setStyleSheet(sheet)

    def _apply_fonts(self) -> None:
        base = max(10.0, min(self.height() / 22, self.width() / 16))
        for label, factor, bold in (
            (self.safety, 0.8, True),
            (self.title, 1.4, True),  # the idle instruction; verdicts are drawn by the overlay
            (self.reason, 1.0, False),
            (self.name, 1.4, True),
            (self.details, 0.85, False),
            (self.occupancy, 1.0, True),
        ):
            font = QFont(label.font())
            font.setPixelSize(int(base * factor))
            font.setBold(bold)
            label.setFont(font)
