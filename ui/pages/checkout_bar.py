"""The strip under the guard panel's tables that makes a manual check-out deliberate and reversible:
"Check out Đỗ B. H.?" (confirm / cancel), then "Đỗ B. H. checked out" with Undo for a few seconds.

It holds the person's key from the moment the guard asked, so what is confirmed is that person, whatever the
tables do meanwhile. Confirm hides at once: a double tap records one check-out, not two.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from ui.runtime.qt_compat import emit


class CheckoutBar(QWidget):
    confirmed = Signal(str)  # person key
    undo_requested = Signal(str)  # person key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkoutBar")
        self.person_key = ""
        self.name = ""
        self.stage = "idle"  # idle | asking | done | undone
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.confirm_button = QPushButton()
        self.confirm_button.setObjectName("primaryButton")
        self.confirm_button.clicked.connect(self._confirm)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.reset)
        self.undo_button = QPushButton()
        self.undo_button.clicked.connect(self._undo)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.reset)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        for button in (self.undo_button, self.cancel_button, self.confirm_button):
            row.addWidget(button)
        self.reset()

    def ask(self, person_key: str, name: str) -> None:
        self.timer.stop()
        self.person_key, self.name = person_key, name
        self._show("asking")

    def done(self, person_key: str, name: str, undo_seconds: float) -> None:
        self.person_key, self.name = person_key, name
        self._show("done")
        self.timer.start(int(undo_seconds * 1000))

    def undone(self, name: str) -> None:
        self.name = name
        self._show("undone")
        self.timer.start(5000)

    def reset(self) -> None:
        self.timer.stop()
        self.person_key = ""
        self._show("idle")

    def _confirm(self) -> None:
        key = self.person_key
        if self.stage != "asking" or not key:
            return
        self.person_key = ""
        self._show("idle")
        emit(self.confirmed, key)

    def _undo(self) -> None:
        key = self.person_key
        if self.stage != "done" or not key:
            return
        self.reset()
        emit(self.undo_requested, key)

    def _show(self, stage: str) -> None:
        self.stage = stage
        self.setVisible(stage != "idle")
        self.confirm_button.setVisible(stage == "asking")
        self.cancel_button.setVisible(stage == "asking")
        self.undo_button.setVisible(stage == "done")
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        texts = {
            "asking": self.tr("Check out %1?"),
            "done": self.tr("%1 checked out"),
            "undone": self.tr("Check-out of %1 undone: inside again"),
        }
        self.label.setText(texts.get(self.stage, "").replace("%1", self.name))
        self.confirm_button.setText(self.tr("Yes, check out"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.undo_button.setText(self.tr("Undo"))
