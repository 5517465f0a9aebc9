"""The station controller: wires the window to the pipeline thread, the camera thread, sounds and sync.

Flow of one scan: camera thread → newest frame → pipeline thread (decode, decide, record) → `result` signal →
here: the panel shows it, a sound plays, the decision is logged with the name masked, and after
`result_hold_seconds` the idle screen returns. When the questionnaire applies (policy "always", or the daily
health update mode), the pipeline thread only evaluates; the entry is recorded after the answers.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from kiosk.config import Settings, load_settings, update_config_file
from kiosk.credentials.base import Credential
from kiosk.pipeline import Evaluation, ScanResult
from kiosk.privacy import mask_name
from kiosk.rules import Policy
from kiosk.sources.base import FrameSource
from kiosk.sources.slot import LatestFrameSlot
from ui.i18n import LanguageManager
from ui.main_window import MainWindow
from ui.presenter import STYLES, ResultView, headline, log_line, occupancy_text, present, reason_text
from ui.qt_compat import emit
from ui.questionnaire import Answers
from ui.scanner_burst import ScannerKeyFilter
from ui.sound import SoundPlayer
from ui.workers import CameraThread, Mailbox, PipelineThread

log = logging.getLogger("qr_checkpoint.station")
HINT_WINDOW_S = 1.0  # a code read on and off over this long, with no result: ask the visitor to hold still
STATUS_INTERVAL_MS = 2000
SERVER_CONFIG_POLL_S = 60.0  # re-read the pulled configuration at least this often (a separate `kiosk sync`)


class Station(QObject):
    """Owns the threads and the window; every GUI reaction to a scan happens here, on the GUI thread."""

    shown = Signal(object)  # ResultView, after it is on screen (tests and benchmarks wait on it)

    def __init__(
        self,
        settings: Settings,
        store: Any,
        pipeline: Any,
        open_source: Callable[[str], FrameSource],
        sync_worker: Any = None,
        read_sync_status: Callable[[], Any] | None = None,
        clock: Callable[[], datetime] | None = None,
        source: str = "",
        base_settings: Settings | None = None,
        server_config: Callable[[Settings], Settings] | None = None,
    ) -> None:
        super().__init__()
        self.source_spec = source or settings.camera.source
        self.settings = settings  # in force: the config file's values with the server's over them
        # The config file (plus command-line options): what the server's pulled configuration is laid over.
        self.base_settings = base_settings or settings
        self.server_config = server_config or _server_config_reader(store)
        # Command-line values that outlive a reload of the config file, e.g. {"store": {"db_path": ...}}.
        self.command_line: dict[str, dict[str, Any]] = {}
        self._config_stamp: Any = None  # the pulled config's fetched-at time last seen in the sync status
        self._config_checked = _monotonic()
        self.store = store
        self.pipeline = pipeline
        self._open_source = open_source
        self.sync_worker = sync_worker
        self._read_sync_status = read_sync_status
        self.clock = clock or (lambda: datetime.now(UTC))
        self.health_mode = False
        self.on_quit: Callable[[], None] = QApplication.quit  # tests record the call instead
        self.views: list[ResultView] = []  # every result shown, in order
        self.camera_states: list[str] = []  # every camera state change, in order
        self._replies: dict[int, Callable[[Any], None]] = {}
        self._pending_evaluation: Evaluation | None = None
        self._pending_assisted: Credential | None = None
        self._pending_details: dict[str, Any] = {}
        self._recent_reads: deque[tuple[float, bool]] = deque()
        self._last_result_at = 0.0

        self.window = MainWindow(store, settings.station.timezone)
        self.language = LanguageManager(self)
        self.sounds = SoundPlayer(settings.ui.sound, self)
        self.slot = LatestFrameSlot()
        self.pipeline_thread = PipelineThread(pipeline, self.slot, self.clock)
        self.pipeline_thread.result.connect(self.show_result)
        self.pipeline_thread.codes_seen.connect(self._codes_seen)
        self.pipeline_thread.reply.connect(self._on_reply)
        self.background = Mailbox()  # replies of network jobs (enrolment), which never run on the GUI thread
        self.background.reply.connect(self._on_reply)
        self._background_ids = 0
        self.pipeline_thread.defer = self._deferred_outcomes
        self.pipeline_thread.evaluation.connect(self._ask_declaration)
        self.camera_thread: CameraThread | None = None
        self.scanner_filter = ScannerKeyFilter(parent=self)
        self.scanner_filter.scanned.connect(self.submit_payload)
        self.serial_reader: Any = None

        self.hold_timer = QTimer(self)
        self.hold_timer.setSingleShot(True)
        self.hold_timer.timeout.connect(self._back_to_idle)
        self.status_timer = QTimer(self)
        self.status_timer.timeout.connect(self.refresh_status)
        self._wire_window()
        self.apply_settings(settings, first=True)

    # -- life cycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.scanner_filter)
        self.pipeline_thread.start()
        self.start_camera(self.source_spec)
        self._start_serial(self.settings.ui.scanner_port)
        self.status_timer.start(STATUS_INTERVAL_MS)
        self.refresh_status()

    def stop(self) -> None:
        self.status_timer.stop()
        self.hold_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.scanner_filter)
        if self.serial_reader is not None:
            self.serial_reader.stop()
            self.serial_reader.wait(2000)
        self._stop_camera()
        self.pipeline_thread.stop()
        self.pipeline_thread.wait(5000)
        self.language.uninstall()

    def start_camera(self, spec: str) -> None:
        """(Re)start the camera thread on `spec` (e.g. after the settings page changed it)."""
        self._stop_camera()
        self.camera_state = "reconnecting"
        thread = CameraThread(lambda: self._open_source(spec), self.slot)
        thread.preview.connect(self.window.preview.show_frame)
        thread.preview.connect(self._settings_preview)
        thread.state_changed.connect(self._camera_state)
        thread.preview_width = max(320, self.window.preview.width())
        self.window.preview.resized.connect(lambda w: setattr(thread, "preview_width", max(320, w)))
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
        from ui.serial_scanner import SerialScannerThread

        self.serial_reader = SerialScannerThread(port)
        self.serial_reader.scanned.connect(self.submit_payload)
        self.serial_reader.state_changed.connect(lambda text: log.info("serial scanner: %s", text))
        self.serial_reader.start()

    # -- settings --------------------------------------------------------------------------------------------
    def apply_settings(self, settings: Settings, first: bool = False) -> None:
        previous = self.settings
        self.settings = settings
        self.window.set_venue(settings.station.venue_name)
        self.window.result_panel.set_safety_level(settings.station.safety_level, settings.station.safety_assessed_on)
        self.window.kiosk_mode = settings.ui.kiosk_mode
        self.window.status.pin_missing = not settings.ui.pin_hash
        self.window.guard_panel.capacity = settings.station.capacity
        self.window.guard_panel.full_names = settings.ui.guard_full_names  # shown from the next refresh
        self.sounds.enabled = settings.ui.sound
        if first or settings.station.language != previous.station.language:
            self.set_language(settings.station.language)  # else keep a language picked with the header button
        if first or settings.ui.daily_health_update != previous.ui.daily_health_update:
            self.set_health_mode(settings.ui.daily_health_update)
        policy = Policy.from_settings(settings.station)
        self.pipeline_thread.submit(lambda pipeline: setattr(pipeline, "policy", policy))
        if not first and settings.camera.source != previous.camera.source:
            self.source_spec = settings.camera.source
            self.start_camera(self.source_spec)
        self.refresh_occupancy()

    def set_health_mode(self, on: bool) -> None:
        """Daily health update mode (also the guard panel's switch, which reports back through `toggled`)."""
        self.health_mode = on
        self.window.guard_panel.health_mode.setChecked(on)

    def apply_base_settings(self, base: Settings) -> None:
        """New config-file settings: the server's pulled configuration still goes over them."""
        self.base_settings = base
        self.apply_settings(self._with_server_config(base))

    def reload_server_config(self) -> bool:
        """Re-read the configuration sync last pulled and apply it if it changes anything. True if applied."""
        settings = self._with_server_config(self.base_settings)
        if settings == self.settings:
            return False
        log.info("applying the server's station configuration")
        self.apply_settings(settings)
        return True

    def _with_server_config(self, base: Settings) -> Settings:
        try:
            return self.server_config(base)
        except Exception as error:  # a broken cache must not stop the door: the file's settings then
            log.warning("could not read the server's configuration: %s", error)
            return base

    def _reload_file(self, path: str) -> Settings:
        """The config file again, with the command-line options (--db, --daily-health-update) still in force."""
        from kiosk.config import with_overrides

        settings = load_settings(path)
        if self.settings.store.db_path:  # a --db given on the command line stays in force
            settings = _with_db(settings, self.settings.store.db_path)
        for section, section_values in self.command_line.items():
            settings = with_overrides(settings, section, section_values)
        return settings

    def save_settings(self, values: dict[str, dict[str, Any]]) -> None:
        path = self.settings.path
        try:
            for section, section_values in values.items():
                update_config_file(path, section, section_values)
            settings = self._reload_file(path)
        except Exception as error:  # ConfigError or an unwritable file: one line on the page
            self.window.settings_page.show_message(str(error))
            return
        self.apply_base_settings(settings)
        self.window.settings_page.show_message(self.tr("Saved"))

    def run_in_background(self, job: Callable[[], Any], callback: Callable[[Any], None]) -> None:
        """Run `job()` on a short-lived thread (network I/O); `callback(value)` runs later on the GUI thread."""
        self._background_ids -= 1  # negative ids: never collide with the pipeline thread's request ids
        request_id = self._background_ids
        self._replies[request_id] = callback

        def work() -> None:
            try:
                value = job()
            except Exception as error:  # crosses as a value
                value = error
            self.background.post("reply", (request_id, value))

        threading.Thread(target=work, name="qrc-enroll", daemon=True).start()

    def enroll(self, server_url: str, code: str) -> None:
        """Trade the one-time code for this kiosk's token (sync.enroll writes it to the config file)."""
        from sync.enroll import enroll

        page = self.window.settings_page
        page.show_message(self.tr("Enrolling…"))
        page.enroll_button.setEnabled(False)
        path = self.settings.path
        self.run_in_background(lambda: enroll(server_url, code, path), self._enrolled)

    def _enrolled(self, value: Any) -> None:
        page = self.window.settings_page
        page.enroll_button.setEnabled(True)
        if isinstance(value, Exception):
            page.show_message(str(value).splitlines()[0] if str(value) else type(value).__name__)
            return
        page.show_message(self.tr("Enrolled as kiosk %1").replace("%1", value.kiosk_id))
        settings = self._reload_file(self.settings.path)
        self.apply_base_settings(settings)
        if self.sync_worker is None:
            from ui.app import make_sync

            self.sync_worker, self._read_sync_status = make_sync(settings, Path(self.store.path), self.store)
            if self.sync_worker is not None:
                self.sync_worker.start()

    def set_language(self, language: str) -> None:
        self.language.set_language(language)
        self.window.language = self.language.language
        self.window.retranslate()

    def toggle_language(self) -> None:
        self.set_language("en" if self.language.language == "vi" else "vi")

    # -- scans -----------------------------------------------------------------------------------------------
    def _deferred_outcomes(self) -> frozenset[str]:
        """Called on the pipeline thread: which decisions wait for the questionnaire before being recorded."""
        if self.health_mode:
            return frozenset({"entry", "exit"})
        return frozenset({"entry"}) if self.settings.station.questionnaire == "always" else frozenset()

    def submit_payload(self, data: bytes) -> None:
        """Typed or serial scanner input: the same pipeline as the camera."""
        self.submit(lambda pipeline: self.pipeline_thread.handle_payload(data, "scanner"), self._scanned)

    def _scanned(self, value: Any) -> None:
        if isinstance(value, Evaluation):
            self._ask_declaration(value)
        elif isinstance(value, ScanResult):
            self.show_result(value)

    def submit(self, job: Callable[[Any], Any], callback: Callable[[Any], None] | None = None) -> int:
        request_id = self.pipeline_thread.submit(job)
        if callback is not None:
            self._replies[request_id] = callback
        return request_id

    def _on_reply(self, request_id: int, value: Any) -> None:
        callback = self._replies.pop(request_id, None)
        if isinstance(value, Exception) and request_id > 0:
            log.error("station request failed: %s", value)
            return
        if callback is not None:
            callback(value)

    def show_result(self, result: ScanResult, flags: tuple[str, ...] = ()) -> None:
        occupancy = self.refresh_occupancy()
        view = present(result, occupancy, self.settings.station.capacity, self.settings.station.timezone, flags)
        self._show_view(view)
        line = log_line(result, occupancy, self.settings.station.capacity)
        print(line, flush=True)
        log.info("%s", line)
        if self.sync_worker is not None and result.event is not None:
            self.sync_worker.wake()

    def _show_view(self, view: ResultView) -> None:
        self.window.result_panel.show_result(view)
        self.sounds.play(view.sound)
        self.views.append(view)
        self._last_result_at = _monotonic()
        self.hold_timer.start(int(self.settings.ui.result_hold_seconds * 1000))
        if self.window.current_page() is self.window.guard_panel:
            self.window.guard_panel.refresh()
        emit(self.shown, view)

    def _back_to_idle(self) -> None:
        self.window.result_panel.show_idle()

    def _codes_seen(self, frame_codes: Any) -> None:
        self.window.preview.show_codes(frame_codes)
        now = _monotonic()
        self._recent_reads.append((now, bool(frame_codes.codes)))
        while self._recent_reads and now - self._recent_reads[0][0] > HINT_WINDOW_S:
            self._recent_reads.popleft()
        panel = self.window.result_panel
        hint = self._hold_still(now)
        if panel.view is None and hint != panel.hint:
            panel.show_idle(hint=hint)

    def _hold_still(self, now: float) -> bool:
        """A code read on some recent frames but not on others, and no result since: moving or blurred."""
        reads = [seen for _t, seen in self._recent_reads]
        flickering = 0 < sum(reads) < len(reads) and len(reads) >= 4
        return flickering and now - self._last_result_at > HINT_WINDOW_S

    def refresh_occupancy(self) -> int:
        try:
            occupancy = int(self.store.occupancy())
        except Exception as error:
            log.error("could not read occupancy: %s", error)
            return 0
        self.window.result_panel.set_occupancy(occupancy_text(occupancy, self.settings.station.capacity))
        return occupancy

    # -- questionnaire ---------------------------------------------------------------------------------------
    def _ask_declaration(self, evaluation: Evaluation) -> None:
        """An entry waiting for its answers (policy "always" or daily health update)."""
        if self._pending_evaluation is not None or self._pending_assisted is not None:
            return  # one visitor at a time; the next one scans again
        self._pending_evaluation = evaluation
        parsed = evaluation.parsed
        self.window.questionnaire.start(
            with_temperature=self.health_mode, who=mask_name(getattr(parsed, "full_name", ""))
        )
        self.window.show_page(self.window.questionnaire)

    def _declaration_done(self, answers: Answers) -> None:
        evaluation, credential = self._pending_evaluation, self._pending_assisted
        self._pending_evaluation = self._pending_assisted = None
        now = self.clock()
        details = {**self._pending_details, **answers.details}
        if evaluation is not None:
            self.window.show_page(self.window.station_page)
            self.submit(
                lambda p: p.commit(evaluation, answers.flags, details),
                lambda result: self.show_result(result, answers.flags),
            )
        elif credential is not None:
            self.window.show_page(self.window.guard_panel)
            self.submit(
                lambda p: p.record_assisted(credential, now, answers.flags, details),
                lambda result: self._assisted_done(result, answers.flags),
            )

    def _declaration_cancelled(self) -> None:
        was_assisted = self._pending_assisted is not None
        self._pending_evaluation = self._pending_assisted = None
        if was_assisted:
            self.window.show_page(self.window.guard_panel)
            return
        self.window.show_page(self.window.station_page)
        background, foreground, icon, sound = STYLES["rejected"]
        self._show_view(
            ResultView(
                "rejected",
                headline("rejected"),
                reason_text("cancelled"),
                "",
                "",
                datetime.now().strftime("%H:%M:%S"),
                "",
                background,
                foreground,
                icon,
                sound,
                False,
            )
        )

    # -- guard panel -----------------------------------------------------------------------------------------
    def open_guard_panel(self) -> None:
        self.window.guard_panel.refresh()
        self.window.show_page(self.window.guard_panel)

    def assisted_entry(self, form: dict[str, str]) -> None:
        credential = Credential(
            kind="manual",
            id_number=form["id_number"],
            full_name=form["full_name"],
            fields={"phone": form.get("phone", "")},
        )
        self._pending_details = {"phone": form["phone"]} if form.get("phone") else {}
        if self.settings.station.questionnaire == "never":
            details = dict(self._pending_details)
            self.submit(
                lambda p: p.record_assisted(credential, self.clock(), (), details),
                lambda result: self._assisted_done(result, ()),
            )
            return
        self._pending_assisted = credential
        self.window.questionnaire.start(with_temperature=self.health_mode, who=mask_name(form["full_name"]))
        self.window.show_page(self.window.questionnaire)

    def _assisted_done(self, result: ScanResult, flags: tuple[str, ...]) -> None:
        self.window.guard_panel.assisted.clear()
        self.show_result(result, flags)
        self.window.guard_panel.refresh()

    def manual_checkout(self, person_key: str) -> None:
        self.submit(lambda p: p.manual_checkout(person_key, self.clock()), self._checked_out)

    def _checked_out(self, result: ScanResult | None) -> None:
        if result is not None:
            self.show_result(result)
        self.window.guard_panel.refresh()

    # -- PIN, settings, exit ---------------------------------------------------------------------------------
    def open_settings(self) -> None:
        if self.settings.ui.pin_hash:
            self.window.pin_page.ask(self.settings.ui.pin_hash, "settings")
            self.window.show_page(self.window.pin_page)
        else:
            self._pin_accepted("settings")

    def request_exit(self) -> None:
        """Escape, Alt+F4, the close button: in kiosk mode only with the PIN."""
        if not self.settings.ui.kiosk_mode or not self.settings.ui.pin_hash:
            self.quit()
            return
        self.window.pin_page.ask(self.settings.ui.pin_hash, "exit")
        self.window.show_page(self.window.pin_page)

    def _pin_accepted(self, purpose: str) -> None:
        if purpose == "exit":
            self.quit()
            return
        self.window.settings_page.load(self.settings)
        self.window.show_page(self.window.settings_page)

    def quit(self) -> None:
        self.window.allow_close = True
        self.window.close()
        self.on_quit()

    def _settings_preview(self, frame: Any) -> None:
        if self.window.current_page() is self.window.settings_page:
            self.window.settings_page.test_view.show_frame(frame)

    # -- status ----------------------------------------------------------------------------------------------
    def _camera_state(self, state: str) -> None:
        self.camera_state = state
        self.camera_states.append(state)
        self.window.status.set_camera_state(state)
        messages = {
            "lost": self.tr("Camera disconnected. Reconnecting…"),
            "reconnecting": self.tr("Camera disconnected. Reconnecting…"),
            "ended": self.tr("Video ended"),
        }
        text = messages.get(state, "" if state == "ok" else self.tr("Camera cannot be opened"))
        self.window.preview.set_message(text)

    def refresh_status(self) -> None:
        status = None
        try:
            if self.sync_worker is not None:
                status = self.sync_worker.status()
            elif self._read_sync_status is not None:
                status = self._read_sync_status()
        except Exception as error:
            log.warning("could not read the sync status: %s", error)
        self.window.status.set_sync_status(status, self.sync_worker is not None)
        self._check_server_config(status)

    def _check_server_config(self, status: Any) -> None:
        """Sync confirmed or replaced the configuration (its fetched-at time moved), or a minute has passed
        (another process, `kiosk sync`, may have pulled): re-read it. Reading it is a few small SQLite reads."""
        stamp = getattr(status, "fetched_at", {}).get("config") if status is not None else None
        now = _monotonic()
        if stamp == self._config_stamp and now - self._config_checked < SERVER_CONFIG_POLL_S:
            return
        self._config_stamp, self._config_checked = stamp, now
        self.reload_server_config()

    def _wire_window(self) -> None:
        w = self.window
        w.guard_button.clicked.connect(self.open_guard_panel)
        w.language_button.clicked.connect(self.toggle_language)
        w.settings_button.clicked.connect(self.open_settings)
        w.exit_requested.connect(self.request_exit)
        w.guard_panel.closed.connect(lambda: w.show_page(w.station_page))
        w.guard_panel.checkout_requested.connect(self.manual_checkout)
        w.guard_panel.assisted_requested.connect(self.assisted_entry)
        w.guard_panel.health_mode_changed.connect(lambda on: setattr(self, "health_mode", on))
        w.questionnaire.finished.connect(self._declaration_done)
        w.questionnaire.cancelled.connect(self._declaration_cancelled)
        w.pin_page.accepted.connect(self._pin_accepted)
        w.pin_page.cancelled.connect(lambda: w.show_page(w.station_page))
        w.settings_page.saved.connect(self.save_settings)
        w.settings_page.closed.connect(lambda: w.show_page(w.station_page))
        w.settings_page.quit_requested.connect(self.quit)
        w.settings_page.test_camera.connect(self.start_camera)
        w.settings_page.enroll_requested.connect(self.enroll)


def _monotonic() -> float:
    import time

    return time.monotonic()


def _server_config_reader(store: Any) -> Callable[[Settings], Settings]:
    """`sync.station_hooks.with_server_config` on this store; the file's settings alone without sync installed."""
    try:
        from sync.station_hooks import with_server_config
    except ImportError:
        return lambda base: base
    return lambda base: with_server_config(base, store)


def _with_db(settings: Settings, db_path: str) -> Settings:
    from kiosk.config import with_overrides

    return with_overrides(settings, "store", {"db_path": db_path})
