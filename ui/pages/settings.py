"""Settings for IT staff (reached through the PIN), built from one table of fields as Picard's options pages are:
each row names its config key, its label and its widget; `load()` and `values()` walk the table.

Saving writes the config file (kiosk.config.update_config_file) and the station applies the new settings at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kiosk.config import CREDENTIAL_KINDS, Settings
from ui.pages.pin import hash_pin
from ui.runtime.cameras import CameraChoice, detect_cameras
from ui.runtime.qt_compat import emit
from ui.widgets.preview import PreviewView

CTX = "SettingsPage"
WIDE_FORM_PX = 1280  # narrower than this (7-inch screens), labels go above their fields
# The credential kinds in words a guard knows (the config file keeps the short names).
CREDENTIAL_LABELS = {
    "cccd": QT_TRANSLATE_NOOP("SettingsPage", "Citizen ID card (CCCD)"),
    "pccovid": QT_TRANSLATE_NOOP("SettingsPage", "PC-Covid app"),
    "personal": QT_TRANSLATE_NOOP("SettingsPage", "Personal QR (this system)"),
    "dcc": QT_TRANSLATE_NOOP("SettingsPage", "Vaccination certificate (EU DCC)"),
}
# A setting's widget: what `load()` sets and `values()` reads (the camera is an editable combo box).
SettingWidget = QComboBox | QSpinBox | QLineEdit | QCheckBox


@dataclass(frozen=True)
class Field:
    """One row of the page: its label, and the config key it edits (None: a row that is no setting)."""

    label: object  # QT_TRANSLATE_NOOP's value: the English source text (PySide6's stub calls it object)
    item: QWidget | QLayout
    section: str | None = None
    key: str | None = None
    widget: SettingWidget | None = None  # the part of `item` that holds the value, when it is not `item`


def _read(widget: SettingWidget) -> Any:
    if isinstance(widget, QComboBox):
        if not widget.isEditable():
            return widget.currentData()
        index, text = widget.currentIndex(), widget.currentText().strip()
        chosen = index >= 0 and text == widget.itemText(index) and widget.itemData(index) is not None
        return widget.itemData(index) if chosen else text  # a listed camera, or a typed path or URL
    if isinstance(widget, QSpinBox):
        return widget.value()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    return widget.text().strip()


def _show(widget: SettingWidget, value: Any) -> None:
    if isinstance(widget, QComboBox):
        if widget.isEditable():
            index = widget.findData(value)
            if index >= 0:
                widget.setCurrentIndex(index)
            else:
                widget.setCurrentText(value)
        else:
            widget.setCurrentIndex(max(0, widget.findData(value)))
    elif isinstance(widget, QSpinBox):
        widget.setValue(value)
    elif isinstance(widget, QCheckBox):
        widget.setChecked(value)
    else:
        widget.setText(value)


def _row(*parts: QWidget, stretch_first: bool = True) -> QHBoxLayout:
    row = QHBoxLayout()
    for index, part in enumerate(parts):
        row.addWidget(part, 1 if index == 0 and stretch_first else 0)
    return row


def _spin(maximum: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(0, maximum)
    # No 12 px arrows a finger cannot hit: the number is typed (on the on-screen keyboard without a keyboard).
    spin.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
    return spin


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
        self.message = QLabel()
        self.message.setWordWrap(True)
        # Ignored: a long unbreakable message (an enrolment error naming a URL) must not widen the window.
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.fields = self._fields()
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self._labels: list[QLabel] = []
        for field in self.fields:
            label = QLabel()
            label.setWordWrap(True)
            self._labels.append(label)
            self.form.addRow(label, field.item)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self._scroll(self.form), 1)
        layout.addWidget(self.message)
        layout.addLayout(self._buttons())
        self.retranslate()

    # -- building
    def _make_widgets(self) -> None:
        self.camera = QComboBox()
        self.camera.setEditable(True)  # a listed camera, or a path or URL typed in
        self.camera.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.cameras: list[CameraChoice] = []
        self.test_button = QPushButton()
        self.test_button.clicked.connect(lambda: emit(self.test_camera, str(_read(self.camera))))
        self.test_view = PreviewView()
        self.test_view.setMinimumSize(240, 135)
        self.mode, self.questionnaire, self.language = QComboBox(), QComboBox(), QComboBox()
        self.symptom_policy = QComboBox()
        self.capacity, self.cooldown = _spin(100_000), _spin(24 * 3600)
        self.credentials = {kind: QCheckBox() for kind in CREDENTIAL_KINDS}
        self.venue, self.server_url, self.enroll_code = QLineEdit(), QLineEdit(), QLineEdit()
        self.enroll_button = QPushButton()
        self.enroll_button.clicked.connect(
            lambda: emit(self.enroll_requested, self.server_url.text().strip(), self.enroll_code.text().strip())
        )
        self.kiosk_mode, self.guard_full_names, self.keyboard = QCheckBox(), QCheckBox(), QCheckBox()
        self.new_pin, self.new_pin_again = QLineEdit(), QLineEdit()
        for pin_field in (self.new_pin, self.new_pin_again):
            pin_field.setEchoMode(QLineEdit.EchoMode.Password)

    def _fields(self) -> list[Field]:
        """The page, row by row, in the order shown."""
        self._make_widgets()
        return [
            Field(
                QT_TRANSLATE_NOOP("SettingsPage", "Camera"),
                _row(self.camera, self.test_button),
                "camera",
                "source",
                self.camera,
            ),
            Field(QT_TRANSLATE_NOOP("SettingsPage", "Test view"), self.test_view),
            Field(QT_TRANSLATE_NOOP("SettingsPage", "Station mode"), self.mode, "station", "mode"),
            Field(QT_TRANSLATE_NOOP("SettingsPage", "Capacity (0: no limit)"), self.capacity, "station", "capacity"),
            Field(
                QT_TRANSLATE_NOOP("SettingsPage", "Repeat scan ignored for (seconds)"),
                self.cooldown,
                "station",
                "cooldown_seconds",
            ),
            Field(
                QT_TRANSLATE_NOOP("SettingsPage", "Accepted codes"),
                self._credential_grid(),
                "station",
                "accepted_credentials",
            ),
            Field(
                QT_TRANSLATE_NOOP("SettingsPage", "Health declaration"), self.questionnaire, "station", "questionnaire"
            ),
            Field(
                QT_TRANSLATE_NOOP("SettingsPage", "Symptoms declared"),
                self.symptom_policy,
                "station",
                "symptom_policy",
            ),
            Field(QT_TRANSLATE_NOOP("SettingsPage", "Language"), self.language, "station", "language"),
            Field(QT_TRANSLATE_NOOP("SettingsPage", "Venue name"), self.venue, "station", "venue_name"),
            Field(QT_TRANSLATE_NOOP("SettingsPage", "Server address"), self.server_url, "server", "url"),
            Field(QT_TRANSLATE_NOOP("SettingsPage", "Enrolment code"), _row(self.enroll_code, self.enroll_button)),
            Field(
                QT_TRANSLATE_NOOP("SettingsPage", "Kiosk mode (locked full screen)"),
                self.kiosk_mode,
                "ui",
                "kiosk_mode",
            ),
            Field(
                QT_TRANSLATE_NOOP("SettingsPage", "Full names in the guard panel (roll-call)"),
                self.guard_full_names,
                "ui",
                "guard_full_names",
            ),
            Field(
                QT_TRANSLATE_NOOP("SettingsPage", "On-screen keyboard (no physical keyboard; after a restart)"),
                self.keyboard,
                "ui",
                "on_screen_keyboard",
            ),
            Field(QT_TRANSLATE_NOOP("SettingsPage", "New PIN (leave empty to keep)"), self.new_pin),
            Field(QT_TRANSLATE_NOOP("SettingsPage", "New PIN again"), self.new_pin_again),
        ]

    def _credential_grid(self) -> QGridLayout:
        grid = QGridLayout()
        for i, box in enumerate(self.credentials.values()):
            grid.addWidget(box, i // 2, i % 2)
        return grid

    @staticmethod
    def _scroll(form: QFormLayout) -> QScrollArea:
        body = QWidget()
        body.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        return scroll

    def _buttons(self) -> QHBoxLayout:
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
        return buttons

    # -- settings in and out
    def _settings_fields(self) -> list[tuple[str, str, Field]]:
        return [(f.section, f.key, f) for f in self.fields if f.section is not None and f.key is not None]

    def load(self, settings: Settings, camera_in_use: str = "", language_in_use: str = "") -> None:
        """Show the current settings (the PIN and the token are never shown): the camera and the language the
        station is using now (a `--demo` start, a language switched on the header), not only the file's."""
        in_use = {"source": camera_in_use, "language": language_in_use}
        self.list_cameras(camera_in_use or settings.camera.source)
        for section, key, field in self._settings_fields():
            value = in_use.get(key) or getattr(getattr(settings, section), key)
            if key == "accepted_credentials":
                for kind, box in self.credentials.items():
                    box.setChecked(kind in value)
            else:
                _show(self._widget(field), value)
        self.enroll_code.clear()
        self.new_pin.clear()
        self.new_pin_again.clear()
        self.message.clear()

    def values(self) -> dict[str, dict[str, Any]]:
        """The edited settings as {section: {key: value}}, ready for update_config_file."""
        values: dict[str, dict[str, Any]] = {}
        for section, key, field in self._settings_fields():
            if key == "accepted_credentials":
                value: Any = [kind for kind, box in self.credentials.items() if box.isChecked()]
            else:
                value = _read(self._widget(field))
            values.setdefault(section, {})[key] = value
        values["camera"]["source"] = values["camera"]["source"] or "0"
        if self.new_pin.text():
            values["ui"]["pin_hash"] = hash_pin(self.new_pin.text())
        return values

    def list_cameras(self, current: str) -> None:
        """The detected cameras, the demo, and the one in use when it is none of those (a URL, a file)."""
        self.cameras = detect_cameras()
        choices = [*self.cameras, CameraChoice("demo", self.tr("Demo (built-in test pictures)"))]
        if current and all(choice.spec != current for choice in choices):
            choices.insert(0, CameraChoice(current, current))
        if not self.cameras:
            choices.append(CameraChoice("0", self.tr("Camera 0 (none detected now)")))
        self.camera.blockSignals(True)
        self.camera.clear()
        for choice in choices:
            self.camera.addItem(choice.label, choice.spec)
        self.camera.blockSignals(False)

    @staticmethod
    def _widget(field: Field) -> SettingWidget:
        widget = field.widget or field.item
        assert isinstance(widget, QComboBox | QSpinBox | QLineEdit | QCheckBox), field.key
        return widget

    def _save(self) -> None:
        pin = self.new_pin.text()
        if pin and (len(pin) < 4 or not pin.isdigit()):
            self.message.setText(self.tr("The PIN must be at least 4 digits"))
            return
        if pin != self.new_pin_again.text():  # typed once, a slip would lock the staff out of the settings
            self.message.setText(self.tr("The two PINs are not the same: type the new PIN twice"))
            self.new_pin_again.clear()
            return
        emit(self.saved, self.values())

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        # Narrow (1024×600, 800×480): each label on its own line above its field, so no Vietnamese label wraps into a row
        # that its field made too short (QFormLayout sizes a row by its field, and would clip the label).
        wide = event.size().width() >= WIDE_FORM_PX
        self.form.setRowWrapPolicy(
            QFormLayout.RowWrapPolicy.WrapLongRows if wide else QFormLayout.RowWrapPolicy.WrapAllRows
        )
        super().resizeEvent(event)

    # -- text
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.title.setText(self.tr("Station settings"))
        self.test_button.setText(self.tr("Test camera"))
        self.enroll_button.setText(self.tr("Enrol"))
        for label, field in zip(self._labels, self.fields, strict=True):
            label.setText(QCoreApplication.translate(CTX, str(field.label)))
        self._fill_choices()
        for check in (self.kiosk_mode, self.guard_full_names, self.keyboard):
            check.setText(self.tr("On"))
        for kind, box in self.credentials.items():
            box.setText(QCoreApplication.translate(CTX, str(CREDENTIAL_LABELS.get(kind, kind))))
        self.save_button.setText(self.tr("Save"))
        self.close_button.setText(self.tr("Close"))
        self.quit_button.setText(self.tr("Exit the station"))

    def _fill_choices(self) -> None:
        _fill(
            self.mode,
            (
                ("auto", self.tr("Entry and exit (automatic)")),
                ("entry", self.tr("Entry only")),
                ("exit", self.tr("Exit only")),
            ),
        )
        _fill(
            self.questionnaire,
            (
                ("never", self.tr("Never")),
                ("assisted", self.tr("Assisted entries only")),
                ("always", self.tr("Every entry")),
            ),
        )
        _fill(
            self.symptom_policy,
            (
                ("refuse", self.tr("Refuse the entry")),
                ("alert", self.tr("Admit and alert the staff")),
            ),
        )
        _fill(self.language, (("vi", "Tiếng Việt"), ("en", "English")))


def _fill(combo: QComboBox, items: tuple[tuple[str, str], ...]) -> None:
    """Replace a combo box's choices (new language) and keep the one selected."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for data, text in items:
        combo.addItem(text, data)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)
