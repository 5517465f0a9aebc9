"""Settings for IT staff (reached through the PIN). One table maps config keys to widgets: `load()` / `values()`.

Saving writes the config file (kiosk.config.update_config_file) and the station applies the new settings at once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kiosk.config import CREDENTIAL_KINDS, Settings
from ui.pin import hash_pin
from ui.preview import PreviewView
from ui.qt_compat import emit

CAMERA_CHOICES = ("0", "1", "demo")


class SettingsPage(QWidget):
    saved = Signal(object)  # {section: {key: value}}
    test_camera = Signal(str)  # a camera source to show in the test view
    closed = Signal()
    quit_requested = Signal()
    enroll_requested = Signal(str, str)  # server URL, one-time enrolment code

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.camera = QComboBox()
        self.camera.setEditable(True)
        self.camera.addItems(CAMERA_CHOICES)
        self.test_button = QPushButton()
        self.test_button.clicked.connect(lambda: emit(self.test_camera, self.camera.currentText().strip()))
        self.test_view = PreviewView()
        self.test_view.setMinimumSize(240, 135)
        self.mode = QComboBox()
        self.capacity = QSpinBox()
        self.capacity.setRange(0, 100_000)
        self.cooldown = QSpinBox()
        self.cooldown.setRange(0, 24 * 3600)
        self.credentials = {kind: QCheckBox(kind.upper()) for kind in CREDENTIAL_KINDS}
        self.questionnaire = QComboBox()
        self.language = QComboBox()
        self.venue = QLineEdit()
        self.server_url = QLineEdit()
        self.enroll_code = QLineEdit()
        self.enroll_button = QPushButton()
        self.enroll_button.clicked.connect(
            lambda: emit(self.enroll_requested, self.server_url.text().strip(), self.enroll_code.text().strip())
        )
        enroll_row = QHBoxLayout()
        enroll_row.addWidget(self.enroll_code, 1)
        enroll_row.addWidget(self.enroll_button)
        self.kiosk_mode = QCheckBox()
        self.guard_full_names = QCheckBox()
        self.new_pin = QLineEdit()
        self.new_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        camera_row = QHBoxLayout()
        camera_row.addWidget(self.camera, 1)
        camera_row.addWidget(self.test_button)
        credential_grid = QGridLayout()
        for i, box in enumerate(self.credentials.values()):
            credential_grid.addWidget(box, i // 2, i % 2)
        self._rows: list[tuple[QLabel, Any]] = []
        for item in (
            camera_row,
            self.test_view,
            self.mode,
            self.capacity,
            self.cooldown,
            credential_grid,
            self.questionnaire,
            self.language,
            self.venue,
            self.server_url,
            enroll_row,
            self.kiosk_mode,
            self.guard_full_names,
            self.new_pin,
        ):
            label = QLabel()
            label.setWordWrap(True)
            self._rows.append((label, item))
            self.form.addRow(label, item)
        body = QWidget()
        body.setLayout(self.form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.save_button = QPushButton()
        self.save_button.setObjectName("primaryButton")
        self.save_button.clicked.connect(self._save)
        self.close_button = QPushButton()
        self.close_button.clicked.connect(self.closed)
        self.quit_button = QPushButton()
        self.quit_button.setObjectName("dangerButton")
        self.quit_button.clicked.connect(self.quit_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.quit_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.retranslate()

    def load(self, settings: Settings) -> None:
        """Show the current settings (the PIN and the token are never shown)."""
        station = settings.station
        self.camera.setCurrentText(settings.camera.source)
        self.mode.setCurrentIndex(max(0, self.mode.findData(station.mode)))
        self.capacity.setValue(station.capacity)
        self.cooldown.setValue(station.cooldown_seconds)
        for kind, box in self.credentials.items():
            box.setChecked(kind in station.accepted_credentials)
        self.questionnaire.setCurrentIndex(max(0, self.questionnaire.findData(station.questionnaire)))
        self.language.setCurrentIndex(max(0, self.language.findData(station.language)))
        self.venue.setText(station.venue_name)
        self.server_url.setText(settings.server.url)
        self.enroll_code.clear()
        self.kiosk_mode.setChecked(settings.ui.kiosk_mode)
        self.guard_full_names.setChecked(settings.ui.guard_full_names)
        self.new_pin.clear()
        self.message.clear()

    def values(self) -> dict[str, dict[str, Any]]:
        """The edited settings as {section: {key: value}}, ready for update_config_file."""
        values: dict[str, dict[str, Any]] = {
            "camera": {"source": self.camera.currentText().strip() or "0"},
            "station": {
                "mode": self.mode.currentData(),
                "capacity": self.capacity.value(),
                "cooldown_seconds": self.cooldown.value(),
                "accepted_credentials": [kind for kind, box in self.credentials.items() if box.isChecked()],
                "questionnaire": self.questionnaire.currentData(),
                "language": self.language.currentData(),
                "venue_name": self.venue.text().strip(),
            },
            "server": {"url": self.server_url.text().strip()},
            "ui": {"kiosk_mode": self.kiosk_mode.isChecked(), "guard_full_names": self.guard_full_names.isChecked()},
        }
        if self.new_pin.text():
            values["ui"]["pin_hash"] = hash_pin(self.new_pin.text())
        return values

    def _save(self) -> None:
        pin = self.new_pin.text()
        if pin and (len(pin) < 4 or not pin.isdigit()):
            self.message.setText(self.tr("The PIN must be at least 4 digits"))
            return
        emit(self.saved, self.values())

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Station settings"))
        self.test_button.setText(self.tr("Test camera"))
        self.enroll_button.setText(self.tr("Enrol"))
        labels = (
            self.tr("Camera"),
            self.tr("Test view"),
            self.tr("Station mode"),
            self.tr("Capacity (0: no limit)"),
            self.tr("Repeat scan ignored for (seconds)"),
            self.tr("Accepted codes"),
            self.tr("Health declaration"),
            self.tr("Language"),
            self.tr("Venue name"),
            self.tr("Server address"),
            self.tr("Enrolment code"),
            self.tr("Kiosk mode (locked full screen)"),
            self.tr("Full names in the guard panel (roll-call)"),
            self.tr("New PIN (leave empty to keep)"),
        )
        for (label, _item), text in zip(self._rows, labels, strict=True):
            label.setText(text)
        self._fill(
            self.mode,
            (
                ("auto", self.tr("Entry and exit (automatic)")),
                ("entry", self.tr("Entry only")),
                ("exit", self.tr("Exit only")),
            ),
        )
        self._fill(
            self.questionnaire,
            (
                ("never", self.tr("Never")),
                ("assisted", self.tr("Assisted entries only")),
                ("always", self.tr("Every entry")),
            ),
        )
        self._fill(self.language, (("vi", "Tiếng Việt"), ("en", "English")))
        self.kiosk_mode.setText(self.tr("On"))
        self.guard_full_names.setText(self.tr("On"))
        self.save_button.setText(self.tr("Save"))
        self.close_button.setText(self.tr("Close"))
        self.quit_button.setText(self.tr("Exit the station"))

    @staticmethod
    def _fill(combo: QComboBox, items: tuple[tuple[str, str], ...]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for data, text in items:
            combo.addItem(text, data)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)
