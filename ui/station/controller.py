"""The station controller: owns the window and the threads, and wires them to the flows that react.

Flow of one scan: camera thread → newest frame → pipeline thread (decode, decide, record) → `result` signal →
`ScanResults` (ui/station/results.py): the panel shows it, a sound plays, the decision is logged with the name
masked, and after `result_hold_seconds` the idle screen returns. When the questionnaire applies (policy
"always", or the daily health update mode), the pipeline thread only evaluates; `DeclarationFlow` records the
entry after the answers. Settings and enrolment: `SettingsFlow`; the guard's actions: `GuardActions`; the PIN:
`AccessFlow`; the status bar: `StatusFlow`. Every object here is built by ui/app.py or by this constructor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtWidgets import QApplication

from kiosk.config import Settings
from kiosk.pipeline import Evaluation, ScanResult
from kiosk.sources.base import Frame
from kiosk.sources.slot import LatestFrameSlot
from ui.main_window import MainWindow
from ui.protocols import EventReader, ScanPipeline, SyncSetup, SyncWorkerHandle
from ui.runtime.camera import CameraThread, PreviewFrame, preview_size
from ui.runtime.i18n import LanguageManager
from ui.runtime.pipeline_thread import PipelineThread
from ui.runtime.scanner_burst import ScannerKeyFilter
from ui.runtime.serial_scanner import SerialScannerThread
from ui.runtime.sound import SoundPlayer
from ui.station.access import AccessFlow
from ui.station.configuration import SettingsFlow
from ui.station.declaration import DeclarationFlow
from ui.station.guard import GuardActions
from ui.station.housekeeping import Housekeeping
from ui.station.jobs import PipelineJobs
from ui.station.results import ScanResults
from ui.station.rollcall import RollCall
from ui.station.scan_enrolment import ScanEnrolment
from ui.station.state import StationServices, StationState
from ui.station.status import StatusFlow

log = logging.getLogger("qr_checkpoint.station")


class Station(QObject):
    """Owns the threads and the window; every GUI reaction to a scan happens in its flows, on the GUI thread."""

    def __init__(
        self,
        settings: Settings,
        store: EventReader,
        pipeline: ScanPipeline,
        services: StationServices,
        *,
        sync: SyncSetup | None = None,
        clock: Callable[[], datetime] | None = None,
        source: str = "",
        base_settings: Settings | None = None,
    ) -> None:
        super().__init__()
        self.source_spec = source or settings.camera.source
        self.state = StationState(settings, base_settings or settings, sync=sync or SyncSetup())
        self.services = services
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self.on_quit: Callable[[], None] = QApplication.quit  # tests record the call instead
        self.window = MainWindow(store, settings.station.timezone)
        self.language = LanguageManager(self)
        self.sounds = SoundPlayer(settings.ui.sound, self)
        self.slot: LatestFrameSlot[Frame] = LatestFrameSlot()
        self.pipeline_thread = PipelineThread(pipeline, self.slot, self.clock)
        self.pipeline_thread.defer = self._deferred_outcomes
        self.camera_thread: CameraThread | None = None
        self.serial_reader: SerialScannerThread | None = None
        self.scanner_filter = ScannerKeyFilter(parent=self)
        self._build_flows()
        self._wire()
        self.settings_flow.apply(settings, first=True)

    def _build_flows(self) -> None:
        state, window = self.state, self.window
        self.jobs = PipelineJobs(self.services.tasks, self.pipeline_thread)
        self.results = ScanResults(state, window, self.sounds, self.store, self)
        self.settings_flow = SettingsFlow(
            state, self.services, window, self.language, self.sounds, self.jobs, self._settings_changed
        )
        self.declarations = DeclarationFlow(state, window, self.results, self.jobs, self.clock)
        self.guard = GuardActions(state, window, self.results, self.declarations, self.jobs, self.clock)
        self.access = AccessFlow(state, window, self.quit, lambda: (self.source_spec, self.language.language))
        self.rollcall = RollCall(state, window, self.clock)
        self.access.on_rollcall = self.rollcall.export
        self.status = StatusFlow(state, window, self.services.tasks, self.settings_flow, self)
        self.housekeeping = Housekeeping(state, self.services, self.jobs, self.clock, self)
        self.scan_enrolment = ScanEnrolment(state, self.settings_flow, self.results.show_view, self.clock)
        self.results.intercept = self.scan_enrolment.handle

    def _wire(self) -> None:
        w, thread = self.window, self.pipeline_thread
        thread.result.connect(self.results.show_result)
        thread.codes_seen.connect(self.results.codes_seen)
        thread.evaluation.connect(self.declarations.ask_for_scan)
        self.scanner_filter.scanned.connect(self.submit_payload)
        w.guard_button.clicked.connect(self.guard.open_panel)
        w.language_button.clicked.connect(self.settings_flow.toggle_language)
        w.settings_button.clicked.connect(self.access.open_settings)
        w.exit_requested.connect(self.access.request_exit)
        w.guard_panel.closed.connect(lambda: w.show_page(w.station_page))
        w.guard_panel.checkout_requested.connect(self.guard.manual_checkout)
        w.guard_panel.undo_requested.connect(self.guard.undo_checkout)
        w.guard_panel.assisted_requested.connect(self.guard.assisted_entry)
        w.guard_panel.rollcall_requested.connect(self.access.open_rollcall)
        w.guard_panel.health_mode_changed.connect(lambda on: setattr(self.state, "health_mode", on))
        w.questionnaire.finished.connect(self.declarations.finished)
        w.questionnaire.cancelled.connect(self.declarations.cancelled)
        w.pin_page.accepted.connect(self.access.pin_accepted)
        w.pin_page.cancelled.connect(lambda: w.show_page(w.station_page))
        w.settings_page.saved.connect(self.settings_flow.save)
        w.settings_page.closed.connect(lambda: w.show_page(w.station_page))
        w.settings_page.quit_requested.connect(self.quit)
        w.settings_page.test_camera.connect(self.start_camera)
        w.settings_page.enroll_requested.connect(self.settings_flow.enroll)

    # -- life cycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.scanner_filter.attach(app)
        self.pipeline_thread.start()
        self.start_camera(self.source_spec)
        self._start_serial(self.state.settings.ui.scanner_port)
        self.status.start()
        self.housekeeping.start()

    def stop(self) -> None:
        self.status.timer.stop()
        self.housekeeping.timer.stop()
        self.results.hold_timer.stop()
        self.declarations.stop()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.scanner_filter.detach(app)
        if self.serial_reader is not None:
            self.serial_reader.stop()
            self.serial_reader.wait(2000)
        self._stop_camera()
        self.pipeline_thread.stop()
        self.pipeline_thread.wait(5000)
        self.language.uninstall()

    def quit(self) -> None:
        self.window.allow_close = True
        self.window.close()
        self.on_quit()

    def start_camera(self, spec: str) -> None:
        """(Re)start the camera thread on `spec` (e.g. after the settings page changed it)."""
        self._stop_camera()
        self.status.camera_state = "reconnecting"
        open_source = self.services.open_source
        thread = CameraThread(lambda: open_source(spec), self.slot)
        thread.preview.connect(self.window.preview.show_frame)
        thread.preview.connect(self._settings_preview)
        thread.state_changed.connect(self.status.camera)
        thread.preview_size = preview_size(self.window.preview.width(), self.window.preview.height())
        self.window.preview.resized.connect(lambda w, h: setattr(thread, "preview_size", preview_size(w, h)))
        self.camera_thread = thread
        thread.start()

    def _stop_camera(self) -> None:
        if self.camera_thread is not None:
            self.camera_thread.stop()
            self.camera_thread.wait(5000)
            self.camera_thread = None

    def _start_serial(self, port: str) -> None:
        if not port:
            return
        self.serial_reader = SerialScannerThread(port)
        self.serial_reader.scanned.connect(self.submit_payload)
        self.serial_reader.state_changed.connect(lambda text: log.info("serial scanner: %s", text))
        self.serial_reader.start()

    def _settings_changed(self, previous: Settings, settings: Settings) -> None:
        if settings.camera.source != previous.camera.source:
            self.source_spec = settings.camera.source
            self.start_camera(self.source_spec)
        self.results.refresh_occupancy()

    def _settings_preview(self, frame: PreviewFrame) -> None:
        if self.window.current_page() is self.window.settings_page:
            self.window.settings_page.test_view.show_frame(frame)

    # -- scans -----------------------------------------------------------------------------------------------
    def _deferred_outcomes(self) -> frozenset[str]:
        """Called on the pipeline thread: which decisions wait for the questionnaire before being recorded."""
        if self.state.health_mode:
            return frozenset({"entry", "exit"})
        return frozenset({"entry"}) if self.state.settings.station.questionnaire == "always" else frozenset()

    def submit_payload(self, data: bytes) -> None:
        """Typed or serial scanner input: the same pipeline as the camera."""
        thread = self.pipeline_thread
        self.jobs.run(lambda _pipeline: thread.handle_payload(data, "scanner"), self._scanned)

    def _scanned(self, value: ScanResult | Evaluation) -> None:
        if isinstance(value, Evaluation):
            self.declarations.ask_for_scan(value)
        else:
            self.results.show_result(value)

    # -- what the command line, the tools and the tests use ---------------------------------------------------
    @property
    def shown(self) -> SignalInstance:
        """ResultView, after it is on screen."""
        return self.results.shown

    @property
    def camera_state_changed(self) -> SignalInstance:
        return self.status.camera_state_changed

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def base_settings(self) -> Settings:
        return self.state.base_settings

    @property
    def health_mode(self) -> bool:
        return self.state.health_mode

    @property
    def command_line(self) -> dict[str, dict[str, Any]]:
        return self.state.command_line

    @command_line.setter
    def command_line(self, values: dict[str, dict[str, Any]]) -> None:
        self.state.command_line = values

    @property
    def sync_worker(self) -> SyncWorkerHandle | None:
        return self.state.sync.worker

    @sync_worker.setter
    def sync_worker(self, worker: SyncWorkerHandle | None) -> None:
        self.state.sync = SyncSetup(worker, self.state.sync.read_status)

    def open_guard_panel(self) -> None:
        self.guard.open_panel()

    def open_settings(self) -> None:
        self.access.open_settings()

    def toggle_language(self) -> None:
        self.settings_flow.toggle_language()

    def back_to_idle(self) -> None:
        self.results.back_to_idle()

    def refresh_status(self) -> None:
        self.status.refresh()

    def reload_server_config(self) -> bool:
        return self.settings_flow.reload_server_config()

    def save_settings(self, values: dict[str, dict[str, Any]]) -> None:
        self.settings_flow.save(values)
