"""Settings in force, and how they change: the settings page, the server's pulled configuration, enrolment,
the language and the daily health update switch.

The config file (plus command-line options) is the base; the configuration the server holds for this kiosk goes
over it (`StationServices.server_config`). Whatever changes is applied at once: the pipeline's policy (on the
pipeline thread, before its next scan), the window, the sounds, the camera.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication

from kiosk.config import Settings, load_settings, update_config_file, with_overrides
from kiosk.rules import Policy
from ui.main_window import MainWindow
from ui.runtime.i18n import LanguageManager
from ui.runtime.sound import SoundPlayer
from ui.station.jobs import PipelineJobs
from ui.station.state import StationServices, StationState

if TYPE_CHECKING:
    from sync.enroll import EnrollResult

log = logging.getLogger("qr_checkpoint.station")


class SettingsFlow:
    def __init__(
        self,
        state: StationState,
        services: StationServices,
        window: MainWindow,
        language: LanguageManager,
        sounds: SoundPlayer,
        jobs: PipelineJobs,
        on_changed: Callable[[Settings, Settings], None],
    ) -> None:
        self._state = state
        self._services = services
        self._window = window
        self._language = language
        self._sounds = sounds
        self._jobs = jobs
        self._on_changed = on_changed  # (previous, new): the controller restarts the camera, refreshes counts

    # -- applying
    def apply(self, settings: Settings, first: bool = False) -> None:
        previous = self._state.settings
        self._state.settings = settings
        self._show(settings)
        if first or settings.station.language != previous.station.language:
            self.set_language(settings.station.language)  # else keep a language picked with the header button
        if first or settings.ui.daily_health_update != previous.ui.daily_health_update:
            self.set_health_mode(settings.ui.daily_health_update)
        policy = Policy.from_settings(settings.station)
        self._jobs.run(lambda pipeline: setattr(pipeline, "policy", policy))
        self._on_changed(previous, settings)

    def _show(self, settings: Settings) -> None:
        window = self._window
        window.set_venue(settings.station.venue_name)
        window.result_panel.set_safety_level(settings.station.safety_level, settings.station.safety_assessed_on)
        window.kiosk_mode = settings.ui.kiosk_mode
        window.status.pin_missing = not settings.ui.pin_hash
        window.guard_panel.capacity = settings.station.capacity
        window.guard_panel.full_names = settings.ui.guard_full_names  # shown from the next refresh
        self._sounds.enabled = settings.ui.sound

    def apply_base(self, base: Settings) -> None:
        """New config-file settings: the server's pulled configuration still goes over them."""
        self._state.base_settings = base
        self.apply(self._with_server_config(base))

    def reload_server_config(self) -> bool:
        """Re-read the configuration sync last pulled and apply it if it changes anything. True if applied."""
        settings = self._with_server_config(self._state.base_settings)
        if settings == self._state.settings:
            return False
        log.info("applying the server's station configuration")
        self.apply(settings)
        return True

    def _with_server_config(self, base: Settings) -> Settings:
        try:
            return self._services.server_config(base)
        except Exception as error:  # a broken cache must not stop the door: the file's settings then
            log.warning("could not read the server's configuration: %s", error)
            return base

    # -- switches
    def set_health_mode(self, on: bool) -> None:
        """Daily health update mode (also the guard panel's switch, which reports back through `toggled`)."""
        self._state.health_mode = on
        self._window.guard_panel.health_mode.setChecked(on)

    def set_language(self, language: str) -> None:
        self._language.set_language(language)
        self._window.language = self._language.language
        self._window.retranslate()

    def toggle_language(self) -> None:
        self.set_language("en" if self._language.language == "vi" else "vi")

    # -- the settings page
    def save(self, values: dict[str, dict[str, Any]]) -> None:
        path = self._state.settings.path
        try:
            for section, section_values in values.items():
                update_config_file(path, section, section_values)
            settings = self._reload_file(path)
        except Exception as error:  # ConfigError or an unwritable file: one line on the page
            self._window.settings_page.show_message(str(error))
            return
        self.apply_base(settings)
        self._window.settings_page.show_message(QCoreApplication.translate("Station", "Saved"))

    def _reload_file(self, path: str) -> Settings:
        """The config file again, with the command-line options (--db, --daily-health-update) still in force."""
        settings = load_settings(path)
        if self._state.settings.store.db_path:  # a --db given on the command line stays in force
            settings = with_overrides(settings, "store", {"db_path": self._state.settings.store.db_path})
        for section, section_values in self._state.command_line.items():
            settings = with_overrides(settings, section, section_values)
        return settings

    # -- enrolment
    def enroll(self, server_url: str, code: str) -> None:
        """Trade the one-time code for this kiosk's token (network I/O, off the GUI thread; sync.enroll writes
        the token to the config file)."""
        page = self._window.settings_page
        page.show_message(QCoreApplication.translate("Station", "Enrolling…"))
        page.enroll_button.setEnabled(False)
        self.enroll_then(server_url, code, self._shown_on_page, self._refused_on_page)

    def enroll_then(
        self, server_url: str, code: str, on_done: Callable[[EnrollResult], None], on_error: Callable[[Exception], None]
    ) -> None:
        """Enrol (`code` may be an enrolment QR's text, which names the server), then start syncing."""
        path, enroll = self._state.settings.path, self._services.enroll

        def enrolled(result: EnrollResult) -> None:
            self._enrolled(result)
            on_done(result)

        self._services.tasks.run_in_background(lambda: enroll(server_url, code, path), enrolled, on_error)

    def _refused_on_page(self, error: Exception) -> None:
        page = self._window.settings_page
        page.enroll_button.setEnabled(True)
        page.show_message(one_line_error(error))

    def _shown_on_page(self, result: EnrollResult) -> None:
        page = self._window.settings_page
        page.enroll_button.setEnabled(True)
        page.show_message(QCoreApplication.translate("Station", "Enrolled as kiosk %1").replace("%1", result.kiosk_id))

    def _enrolled(self, result: EnrollResult) -> None:
        settings = self._reload_file(self._state.settings.path)
        self.apply_base(settings)
        if self._state.sync.worker is None:  # the kiosk has a token now: start syncing
            self._state.sync = self._services.sync_factory(settings)
            if self._state.sync.worker is not None:
                self._state.sync.worker.start()


def one_line_error(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
