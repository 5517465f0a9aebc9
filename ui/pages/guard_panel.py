"""The guard's panel: today's counts, who is inside (roll-call), search, manual check-out, assisted entry.

It reads the store directly (the store's reader connections are safe from the GUI thread); everything that
writes goes to the pipeline thread through the signals `checkout_requested` and `assisted_requested`.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.events import StoredEvent
from kiosk.privacy import mask_id, mask_name, sanitize_for_display
from ui.pages.checkout_bar import CheckoutBar
from ui.protocols import EventReader
from ui.runtime.qt_compat import emit

# The shapes of the papers a guard is shown: 12-digit CCCD, 9-digit CMND, passport (a letter and 7 digits).
ID_SHAPE = re.compile(r"\d{12}|\d{9}|[A-Z]\d{7}")


def normalise_id(text: str) -> str:
    """What the guard typed, without spaces or dashes, passport letter in capitals."""
    return re.sub(r"[\s.-]", "", text).upper()


def id_shape_ok(id_number: str) -> bool:
    return ID_SHAPE.fullmatch(normalise_id(id_number)) is not None


NARROW_PX = 960  # narrower than this (an 800×480 panel), the panel leaves its title out
MASKED_NAME_ROLE = Qt.ItemDataRole.UserRole + 1  # the confirmation names the person masked, even with full names


class AssistedForm(QWidget):
    """Name, phone, ID number for a visitor without a QR code."""

    submitted = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLineEdit()
        self.phone = QLineEdit()
        self.phone.setInputMethodHints(Qt.InputMethodHint.ImhDialableCharactersOnly)
        self.id_number = QLineEdit()
        self.id_number.setInputMethodHints(Qt.InputMethodHint.ImhPreferNumbers)  # a passport starts with a letter
        self.message = QLabel()
        self.message.setObjectName("errorText")
        self.message.setWordWrap(True)
        self.submit_button = QPushButton()
        self.submit_button.setObjectName("primaryButton")
        self.submit_button.clicked.connect(self._submit)
        self.form = QFormLayout()
        self._labels = [QLabel(), QLabel(), QLabel()]
        for label, field in zip(self._labels, (self.name, self.phone, self.id_number), strict=True):
            self.form.addRow(label, field)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.submit_button)
        layout.addStretch(1)
        self.retranslate()

    def _submit(self) -> None:
        name, id_number = self.name.text().strip(), normalise_id(self.id_number.text())
        if not name or not id_number:
            self._problem(self.tr("Name and ID number are required"))
            return
        if not id_shape_ok(id_number):
            self._problem(
                self.tr("Check the ID number: 12 digits (CCCD), 9 digits (CMND) or a passport (a letter and 7 digits)")
            )
            return
        self.message.clear()
        emit(self.submitted, {"full_name": name, "phone": self.phone.text().strip(), "id_number": id_number})

    def _problem(self, text: str) -> None:
        """Say what is wrong where the guard looks: the form scrolls on a small screen, so scroll to it."""
        self.message.setText(text)
        viewport = self.parentWidget()
        area = viewport.parentWidget() if viewport is not None else None
        if isinstance(area, QScrollArea):
            area.ensureWidgetVisible(self.message)

    def clear(self) -> None:
        for field in (self.name, self.phone, self.id_number):
            field.clear()
        self.message.clear()

    def retranslate(self) -> None:
        for label, text in zip(
            self._labels, (self.tr("Full name"), self.tr("Phone"), self.tr("ID number")), strict=True
        ):
            label.setText(text)
        self.submit_button.setText(self.tr("Continue"))


class GuardPanel(QWidget):
    closed = Signal()
    checkout_requested = Signal(str)  # person key, after the guard confirmed the masked name
    undo_requested = Signal(str)  # person key of the check-out to correct
    assisted_requested = Signal(dict)
    rollcall_requested = Signal()  # the full list on paper (PDF, printer), after the PIN
    health_mode_changed = Signal(bool)

    def __init__(self, store: EventReader, timezone: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.zone = ZoneInfo(timezone)
        self.capacity = 0
        # Masked like the main screen unless IT staff turned on ui.guard_full_names (evacuation roll-call): the
        # panel is one tap away without a PIN. Display only: search still matches the full stored name.
        self.full_names = False
        self.counts_values = (0, 0, 0)  # entries, exits, inside now: from the last refresh
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.counts = QLabel()
        self.counts.setObjectName("counts")
        self.counts.setWordWrap(True)
        self.back_button = QPushButton()
        self.back_button.clicked.connect(self.closed)
        self.health_mode = QCheckBox()
        self.health_mode.toggled.connect(self.health_mode_changed)
        self.inside_table = self._table()
        self.checkout_button = QPushButton()
        self.checkout_button.clicked.connect(lambda: self._checkout(self.inside_table))
        self.rollcall_button = QPushButton()
        self.rollcall_button.clicked.connect(self.rollcall_requested)
        self.notice = QLabel()  # where the roll-call went
        self.notice.setObjectName("warningText")
        self.notice.setWordWrap(True)
        self.notice.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.notice.hide()
        self.search_field = QLineEdit()
        self.search_field.textChanged.connect(self.run_search)
        self.search_table = self._table()
        self.search_checkout_button = QPushButton()
        self.search_checkout_button.clicked.connect(lambda: self._checkout(self.search_table))
        self.assisted = AssistedForm()
        self.assisted.submitted.connect(self.assisted_requested)
        self.action_bar = CheckoutBar()
        self.action_bar.confirmed.connect(self._confirmed)
        self.action_bar.undo_requested.connect(self.undo_requested)
        self.tabs = QTabWidget()
        self._lay_out()
        self.retranslate()

    def _lay_out(self) -> None:
        """Compact enough for 800×480 (389 px between the header and the status bar), confirmation included:
        the counts share the title's row, the search field its button's, the assisted form scrolls."""
        inside_buttons = QWidget()
        inside_row = QHBoxLayout(inside_buttons)
        inside_row.setContentsMargins(0, 0, 0, 0)
        inside_row.addWidget(self.checkout_button, 1)
        inside_row.addWidget(self.rollcall_button)
        self.tabs.addTab(self._page(self.inside_table, self.notice, inside_buttons), "")
        search_row = QWidget()
        search_line = QHBoxLayout(search_row)
        search_line.setContentsMargins(0, 0, 0, 0)
        search_line.addWidget(self.search_field, 1)
        search_line.addWidget(self.search_checkout_button)
        self.tabs.addTab(self._page(search_row, self.search_table), "")
        assisted = QScrollArea()
        assisted.setWidgetResizable(True)
        assisted.setFrameShape(QScrollArea.Shape.NoFrame)
        assisted.setWidget(self.assisted)
        self.tabs.addTab(assisted, "")
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.counts, 1)
        top.addWidget(self.health_mode)
        top.addWidget(self.back_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.action_bar)

    @staticmethod
    def _table() -> QTableWidget:
        table = QTableWidget(0, 4)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        return table

    @staticmethod
    def _page(*widgets: QWidget) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        for widget in widgets:
            layout.addWidget(widget, 1 if isinstance(widget, QTableWidget) else 0)
        return page

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        # Under 960 px the title would squeeze the counts into five lines; the header's Guard button says where we are.
        self.title.setVisible(event.size().width() >= NARROW_PX)
        super().resizeEvent(event)

    # -- data
    def refresh(self, now: datetime | None = None) -> None:
        """Reload counts and the roll-call from the store."""
        now = now or datetime.now(self.zone)
        day_start = now.astimezone(self.zone).replace(hour=0, minute=0, second=0, microsecond=0)
        counts = self.store.today_counts(day_start)
        inside = self.store.inside()
        self.counts_values = (counts["entries"], counts["exits"], len(inside))
        self._fill(self.inside_table, inside)
        self._update_counts()
        self.run_search(self.search_field.text())

    def run_search(self, text: str) -> None:
        self._fill(self.search_table, self.store.search(text) if text.strip() else [])

    def _fill(self, table: QTableWidget, events: list[StoredEvent]) -> None:
        """Rows follow the store; the selection follows the person, never the row position (a scan above
        moves the rows, and a check-out must not land on someone else)."""
        selected = self._selected_key(table)
        table.clearSelection()
        table.setRowCount(len(events))
        for row, event in enumerate(events):
            when = event.wall_time.astimezone(self.zone).strftime("%H:%M")
            direction = self.tr("inside") if event.direction == "entry" else self.tr("left")
            flags = " ⚑" if event.flags else ""
            name = event.full_name if self.full_names else mask_name(event.full_name)
            values = (sanitize_for_display(name, 60) + flags, mask_id(event.id_number), when, direction)
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, event.person_key)
                item.setData(MASKED_NAME_ROLE, sanitize_for_display(mask_name(event.full_name), 60))
                table.setItem(row, column, item)
            if selected is not None and event.person_key == selected:
                table.selectRow(row)
        if selected is not None and self._selected_key(table) != selected:
            table.setCurrentCell(-1, -1)  # that person left the list: select nobody rather than a neighbour

    @staticmethod
    def _selected_key(table: QTableWidget) -> str | None:
        items = table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def _checkout(self, table: QTableWidget) -> None:
        """Ask the guard to confirm the person by their masked name before anything is recorded."""
        key = self._selected_key(table)
        if key is None:
            return
        self.action_bar.ask(key, str(table.selectedItems()[0].data(MASKED_NAME_ROLE)))

    def _confirmed(self, person_key: str) -> None:
        for table in (self.inside_table, self.search_table):
            table.clearSelection()
            table.setCurrentCell(-1, -1)
        emit(self.checkout_requested, person_key)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setToolTip(text)
        self.notice.setVisible(bool(text))

    def checked_out(self, person_key: str, name: str, undo_seconds: float) -> None:
        """The exit is on disk: say so, and offer to undo it for `undo_seconds`."""
        self.action_bar.done(person_key, name, undo_seconds)

    # -- text
    def _update_counts(self) -> None:
        entries, exits, inside = self.counts_values
        inside_text = f"{inside} / {self.capacity}" if self.capacity else str(inside)
        self.counts.setText(
            self.tr("Today: %1 entries, %2 exits. Inside now: %3")
            .replace("%1", str(entries))
            .replace("%2", str(exits))
            .replace("%3", inside_text)
        )

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Guard panel"))
        self.back_button.setText(self.tr("Back"))
        self.health_mode.setText(self.tr("Daily health update"))
        self.checkout_button.setText(self.tr("Check out the selected person"))
        self.rollcall_button.setText(self.tr("Roll-call (PDF)"))
        self.search_checkout_button.setText(self.tr("Check out the selected person"))
        self.search_field.setPlaceholderText(self.tr("Name or last digits of the ID"))
        self.tabs.setTabText(0, self.tr("Inside now"))
        self.tabs.setTabText(1, self.tr("Search"))
        self.tabs.setTabText(2, self.tr("Assisted entry"))
        headers = (self.tr("Name"), self.tr("ID"), self.tr("Time"), self.tr("Status"))
        for table in (self.inside_table, self.search_table):
            table.setHorizontalHeaderLabels(list(headers))
        self.assisted.retranslate()
        self.action_bar.retranslate()
        self._update_counts()
