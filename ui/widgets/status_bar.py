"""The always-visible status line: camera, sync, age of keys and trust lists, clock and PIN warnings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QStatusBar, QWidget

from ui.widgets.elided_label import ElidedLabel

if TYPE_CHECKING:
    from sync.worker import SyncStatus

STALE_TRUST_S = 3 * 24 * 3600  # older keys or trust lists are shown as a warning


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return QCoreApplication.translate("Status", "never")
    if seconds < 3600:
        return QCoreApplication.translate("Status", "%1 min").replace("%1", str(int(seconds // 60)))
    if seconds < 48 * 3600:
        return QCoreApplication.translate("Status", "%1 h").replace("%1", str(int(seconds // 3600)))
    return QCoreApplication.translate("Status", "%1 days").replace("%1", str(int(seconds // 86400)))


class StationStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        # Elided, never wider than the screen: the full text is each label's tooltip (issue 10: four plain labels
        # set a 1,142 px minimum width on an enrolled kiosk).
        self.camera = ElidedLabel()
        self.sync = ElidedLabel()
        self.trust = ElidedLabel()
        self.warning = ElidedLabel()
        self.warning.setObjectName("warningText")
        for label in (self.camera, self.sync, self.trust):
            self.addWidget(label)  # no stretch: each its whole text while there is room, shrinking when not
        self.addPermanentWidget(self.warning)
        self.camera_state = "reconnecting"
        self.sync_status: SyncStatus | None = None
        self.sync_configured = False
        self.pin_missing = False
        self.refresh()

    def set_camera_state(self, state: str) -> None:
        self.camera_state = state
        self.refresh()

    def set_sync_status(self, status: SyncStatus | None, configured: bool) -> None:
        self.sync_status, self.sync_configured = status, configured
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.LanguageChange:
            self.refresh()
        super().changeEvent(event)

    def refresh(self) -> None:
        states = {
            "ok": self.tr("Camera: OK"),
            "lost": self.tr("Camera: LOST"),
            "reconnecting": self.tr("Camera: reconnecting…"),
            "ended": self.tr("Camera: video ended"),
        }
        camera = states.get(self.camera_state, self.tr("Camera: cannot open"))
        self.camera.setText(camera)
        if self.camera_state.startswith("error: "):  # for the guard: which device, and why (the core's words)
            self.camera.setToolTip(camera + "\n" + self.camera_state.removeprefix("error: "))
        self.camera.setObjectName("okText" if self.camera_state == "ok" else "warningText")
        self.camera.setStyleSheet(f"color: {'#8be09e' if self.camera_state == 'ok' else '#ffb4a9'};")
        status = self.sync_status
        warnings: list[str] = []
        if status is None:
            self.sync.setText(self.tr("Sync: starting…"))
            self.trust.setText("")
        else:
            pending = int(getattr(status, "pending", 0))
            if self.sync_configured and getattr(status, "online", False):
                last = getattr(status, "last_success", None)
                when = last.astimezone().strftime("%H:%M") if isinstance(last, datetime) else "-"
                self.sync.setText(
                    self.tr("Online, %1 pending, last sync %2").replace("%1", str(pending)).replace("%2", when)
                )
            else:
                self.sync.setText(self.tr("Offline, %1 pending").replace("%1", str(pending)))
            ages = [getattr(status, "keys_age_s", None), getattr(status, "trust_list_age_s", None)]
            self.trust.setText(
                self.tr("Keys: %1, trust list: %2").replace("%1", age_text(ages[0])).replace("%2", age_text(ages[1]))
                if self.sync_configured
                else ""
            )
            if self.sync_configured and any(age is None or age > STALE_TRUST_S for age in ages):
                warnings.append(self.tr("Trust list out of date"))
            if getattr(status, "offset_warning", False):
                warnings.append(self.tr("Clock looks wrong"))
            if getattr(status, "token_refused", False):
                warnings.append(self.tr("Server refused this kiosk: enrol again (scans are kept here)"))
            refused = int(getattr(status, "refused", 0))
            if refused:
                warnings.append(self.tr("%1 records refused by the server").replace("%1", str(refused)))
        if self.pin_missing:
            warnings.append(self.tr("No staff PIN set"))
        self.warning.setText("  ·  ".join(warnings))
