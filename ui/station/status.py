"""The status bar's inputs: the camera's state, and the sync status read off the GUI thread every few seconds;
a sync status that shows a new pull of the configuration (or a minute passing) re-reads that configuration."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from ui.main_window import MainWindow
from ui.runtime.qt_compat import emit
from ui.runtime.tasks import TaskRunner
from ui.station.configuration import SettingsFlow
from ui.station.state import StationState

if TYPE_CHECKING:
    from datetime import datetime

    from sync.worker import SyncStatus

log = logging.getLogger("qr_checkpoint.station")
STATUS_INTERVAL_MS = 2000
SERVER_CONFIG_POLL_S = 60.0  # re-read the pulled configuration at least this often (a separate `kiosk sync`)


class StatusFlow(QObject):
    camera_state_changed = Signal(str)  # every camera state, in order ("ok", "lost", "reconnecting", ...)

    def __init__(
        self, state: StationState, window: MainWindow, tasks: TaskRunner, settings: SettingsFlow, parent: QObject
    ) -> None:
        super().__init__(parent)
        self._state = state
        self._window = window
        self._tasks = tasks
        self._settings = settings
        self.camera_state = "reconnecting"
        self._config_stamp: datetime | None = None  # the pulled config's fetched-at time last seen in the status
        self._config_checked = time.monotonic()
        self._reading = False  # a status read is under way (a slow disk must not pile them up)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)

    def start(self) -> None:
        self.timer.start(STATUS_INTERVAL_MS)
        self.refresh()

    # -- camera
    def camera(self, state: str) -> None:
        self.camera_state = state
        self._window.status.set_camera_state(state)
        messages = {
            "lost": QCoreApplication.translate("Station", "Camera disconnected. Reconnecting…"),
            "reconnecting": QCoreApplication.translate("Station", "Camera disconnected. Reconnecting…"),
            "ended": QCoreApplication.translate("Station", "Video ended"),
        }
        cannot_open = QCoreApplication.translate("Station", "Camera cannot be opened")
        self._window.preview.set_message(messages.get(state, "" if state == "ok" else cannot_open))
        self._window.result_panel.set_camera_down(state not in ("ok", "ended"))
        emit(self.camera_state_changed, state)

    # -- sync
    def refresh(self) -> None:
        """Read the sync status off the GUI thread; the status bar shows it when it arrives."""
        sync = self._state.sync
        read = sync.worker.status if sync.worker is not None else sync.read_status
        if read is None:
            self._show(None)
            return
        if self._reading:
            return
        self._reading = True
        self._tasks.run_in_background(read, self._show, self._unreadable)

    def _unreadable(self, error: Exception) -> None:
        log.warning("could not read the sync status: %s", error)
        self._show(None)

    def _show(self, status: SyncStatus | None) -> None:
        self._reading = False
        self._window.status.set_sync_status(status, self._state.sync.worker is not None)
        self._check_server_config(status)

    def _check_server_config(self, status: SyncStatus | None) -> None:
        """Sync confirmed or replaced the configuration (its fetched-at time moved), or a minute has passed
        (another process, `kiosk sync`, may have pulled): re-read it. Reading it is a few small SQLite reads."""
        stamp = status.fetched_at.get("config") if status is not None else None
        now = time.monotonic()
        if stamp == self._config_stamp and now - self._config_checked < SERVER_CONFIG_POLL_S:
            return
        self._config_stamp, self._config_checked = stamp, now
        self._settings.reload_server_config()
