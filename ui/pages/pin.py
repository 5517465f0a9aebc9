"""The IT staff PIN: its salted scrypt hash (`scrypt$n$r$p$salt_hex$hash_hex`, stored as `ui.pin_hash`) and the
page that asks for it, with an on-screen keypad (touch screens have no keyboard). Emits `accepted` or `cancelled`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ui.runtime.qt_compat import emit

_N, _R, _P = 2**14, 8, 1  # ~50 ms on a cheap PC: slow enough against guessing, fast enough for a guard
FREE_TRIES = 5  # wrong PINs before the page makes the next one wait
FIRST_DELAY_S = 30.0  # then 30 s, 60 s, 120 s ... after each further wrong PIN


def lockout_seconds(failures: int) -> float:
    """How long the page waits after `failures` wrong PINs in a row (0 while under FREE_TRIES)."""
    return 0.0 if failures < FREE_TRIES else FIRST_DELAY_S * 2 ** (failures - FREE_TRIES)


def hash_pin(pin: str) -> str:
    """A new salted hash of `pin`, for `ui.pin_hash` in the config file."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when `pin` matches `stored`; False for a wrong PIN or a malformed hash (never raises)."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            pin.encode("utf-8"), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=len(digest_hex) // 2
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


class PinPage(QWidget):
    accepted = Signal(str)  # the purpose it was asked for: "settings" or "exit"
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pin_hash = ""
        self.purpose = "settings"
        self.failures = 0  # wrong PINs in a row; kept across cancel and reopening, or cancelling would reset it
        self.monotonic: Callable[[], float] = time.monotonic  # tests inject a clock
        self.locked_until = 0.0
        self.countdown = QTimer(self)  # refreshes "try again in N s" while locked
        self.countdown.timeout.connect(self._show_lock)
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setObjectName("errorText")
        self.message.setWordWrap(True)
        self.title.setWordWrap(True)
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.field.setMaxLength(12)
        self.field.returnPressed.connect(self.submit)
        keypad = QGridLayout()
        for i, digit in enumerate("123456789"):
            keypad.addWidget(self._key(digit), i // 3, i % 3)
        self.clear_button = QPushButton()
        self.clear_button.clicked.connect(self.field.clear)
        keypad.addWidget(self.clear_button, 3, 0)
        keypad.addWidget(self._key("0"), 3, 1)
        self.ok_button = QPushButton()
        self.ok_button.setObjectName("primaryButton")
        self.ok_button.clicked.connect(self.submit)
        keypad.addWidget(self.ok_button, 3, 2)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self._cancel)
        # The keypad beside the field, not under it: stacked, the page needed 555 px and 800×480 leaves 389.
        column = QVBoxLayout()
        column.addStretch(1)
        for widget in (self.title, self.field, self.message, self.cancel_button):
            column.addWidget(widget)
        column.addStretch(1)
        row = QHBoxLayout(self)
        row.addStretch(1)
        row.addLayout(column, 3)
        row.addSpacing(16)
        keys = QVBoxLayout()  # the keys keep their size; the page's spare height goes above and below them
        keys.addStretch(1)
        keys.addLayout(keypad)
        keys.addStretch(1)
        row.addLayout(keys, 2)
        row.addStretch(1)
        self.retranslate()

    def _key(self, digit: str) -> QPushButton:
        button = QPushButton(digit)
        button.setObjectName("keypadButton")
        button.clicked.connect(lambda: self.field.insert(digit))
        return button

    def ask(self, pin_hash: str, purpose: str) -> None:
        self.pin_hash, self.purpose = pin_hash, purpose
        self.field.clear()
        self.message.clear()
        self.retranslate()
        self._show_lock()
        self.field.setFocus()

    def remaining_lock_s(self) -> float:
        return max(0.0, self.locked_until - self.monotonic())

    def submit(self) -> None:
        if self.remaining_lock_s() > 0:
            self.field.clear()  # not even checked: guessing has to wait out the delay
            self._show_lock()
            return
        if verify_pin(self.field.text(), self.pin_hash):
            self.failures = 0
            self.field.clear()
            emit(self.accepted, self.purpose)
            return
        self.failures += 1
        self.field.clear()
        self.message.setText(self.tr("Wrong PIN"))
        delay = lockout_seconds(self.failures)
        if delay:
            self.locked_until = self.monotonic() + delay
            self._show_lock()

    def _show_lock(self) -> None:
        remaining = self.remaining_lock_s()
        self.ok_button.setEnabled(remaining <= 0)
        if remaining <= 0:
            self.countdown.stop()
            self.message.clear()
            return
        self.countdown.start(1000)
        self.message.setText(self.tr("Too many wrong PINs. Try again in %1 s").replace("%1", str(math.ceil(remaining))))

    def _cancel(self) -> None:
        self.field.clear()
        emit(self.cancelled)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.title.setText(
            self.tr("Enter the PIN to close the station") if self.purpose == "exit" else self.tr("Enter the staff PIN")
        )
        self.clear_button.setText(self.tr("Clear"))
        self.ok_button.setText(self.tr("OK"))
        self.cancel_button.setText(self.tr("Cancel"))
