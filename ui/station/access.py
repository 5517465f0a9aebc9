"""The PIN in front of the settings page and, in kiosk mode, in front of closing the station."""

from __future__ import annotations

from collections.abc import Callable

from ui.main_window import MainWindow
from ui.station.state import StationState


class AccessFlow:
    def __init__(
        self,
        state: StationState,
        window: MainWindow,
        quit_station: Callable[[], None],
        in_use: Callable[[], tuple[str, str]] = lambda: ("", ""),
    ) -> None:
        self._state = state
        self._window = window
        self._quit = quit_station
        self._in_use = in_use  # (camera source, language) the running station uses
        self.on_rollcall: Callable[[], object] = lambda: None  # the roll-call export, after the PIN

    def open_rollcall(self) -> None:
        """The roll-call has full names: only with the PIN (directly when none is set, like the settings)."""
        pin_hash = self._state.settings.ui.pin_hash
        if pin_hash:
            self._window.pin_page.ask(pin_hash, "rollcall")
            self._window.show_page(self._window.pin_page)
        else:
            self.pin_accepted("rollcall")

    def open_settings(self) -> None:
        """Without a PIN the settings open directly (a kiosk that cannot be unlocked would be worse)."""
        pin_hash = self._state.settings.ui.pin_hash
        if pin_hash:
            self._window.pin_page.ask(pin_hash, "settings")
            self._window.show_page(self._window.pin_page)
        else:
            self.pin_accepted("settings")

    def request_exit(self) -> None:
        """Escape, Alt+F4, the close button: in kiosk mode only with the PIN."""
        ui = self._state.settings.ui
        if not ui.kiosk_mode or not ui.pin_hash:
            self._quit()
            return
        self._window.pin_page.ask(ui.pin_hash, "exit")
        self._window.show_page(self._window.pin_page)

    def pin_accepted(self, purpose: str) -> None:
        if purpose == "exit":
            self._quit()
            return
        if purpose == "rollcall":
            self._window.show_page(self._window.guard_panel)
            self.on_rollcall()
            return
        camera, language = self._in_use()
        self._window.settings_page.load(self._state.settings, camera, language)
        self._window.show_page(self._window.settings_page)
