"""Enrolment by showing the station an enrolment QR (`kiosk-server kiosk add --qr` / `--sheet`): a new kiosk
is enrolled with no typing. Only a kiosk that has no token yet does this: once enrolled, an enrolment QR is
just a code that is not a personal QR (a visitor must not be able to move a kiosk to another server); the
settings page, behind the PIN, re-enrols.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QCoreApplication

from kiosk.pipeline import ScanResult
from ui.station.configuration import SettingsFlow, one_line_error
from ui.station.state import StationState
from ui.widgets.presenter import ResultView, message_view

ENROLL_QR_PREFIX = b"QRCK-ENROLL:"  # sync.protocol_pull.ENROLL_QR_PREFIX: the station reads the bytes itself


class ScanEnrolment:
    def __init__(
        self,
        state: StationState,
        settings_flow: SettingsFlow,
        show_view: Callable[[ResultView], None],
        clock: Callable[[], datetime],
    ) -> None:
        self._state, self._settings_flow, self._show, self._clock = state, settings_flow, show_view, clock
        self._busy = False

    def handle(self, result: ScanResult) -> bool:
        """True when `result` was an enrolment QR this kiosk acts on (nothing else is shown for it)."""
        data = result.code.data if result.code is not None else b""
        if not data.startswith(ENROLL_QR_PREFIX) or self._state.settings.server.token or self._busy:
            return False
        self._busy = True
        self._view(
            "warning",
            QCoreApplication.translate("Station", "ENROLLING THIS KIOSK"),
            QCoreApplication.translate("Station", "Please wait: this kiosk is being registered with its server"),
        )
        text = data.decode("utf-8", "replace")
        self._settings_flow.enroll_then("", text, self._done, self._failed)
        return True

    def _done(self, result: object) -> None:
        self._busy = False
        kiosk_id = str(getattr(result, "kiosk_id", ""))
        self._view(
            "entry",
            QCoreApplication.translate("Station", "KIOSK ENROLLED"),
            QCoreApplication.translate("Station", "This kiosk is now kiosk %1 of its venue").replace("%1", kiosk_id),
        )

    def _failed(self, error: Exception) -> None:
        self._busy = False
        self._view("rejected", QCoreApplication.translate("Station", "ENROLMENT FAILED"), one_line_error(error))

    def _view(self, style: str, title: str, reason: str) -> None:
        self._show(message_view(style, title, reason, self._clock(), self._state.settings.station.timezone))
