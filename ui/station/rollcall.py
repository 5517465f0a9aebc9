"""The roll-call from the guard panel, behind the PIN: everyone inside now, with full names, as a PDF next to the
events database, and on the default printer when the kiosk has one. The panel says where it went."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QCoreApplication

from kiosk.config import default_db_path
from ui.main_window import MainWindow
from ui.runtime.rollcall import print_on_default_printer, rollcall_html, write_rollcall_pdf
from ui.station.state import StationState

log = logging.getLogger("qr_checkpoint.station")


class RollCall:
    def __init__(self, state: StationState, window: MainWindow, clock: Callable[[], datetime]) -> None:
        self._state = state
        self._window = window
        self._clock = clock
        self.last_pdf: Path | None = None
        self.last_markup = ""  # what was written (tests read the names back from it)

    def folder(self) -> Path:
        return Path(self._state.settings.store.db_path or default_db_path()).parent / "rollcall"

    def export(self) -> Path | None:
        """Write (and print) the list; the guard panel shows the outcome. Returns the PDF's path."""
        panel = self._window.guard_panel
        station = self._state.settings.station
        zone = ZoneInfo(station.timezone)
        now = self._clock()
        title = QCoreApplication.translate("Station", "Roll-call: inside now")
        markup = rollcall_html(panel.store.inside(), station.venue_name, now, zone, title)
        path = self.folder() / f"rollcall-{now.astimezone(zone):%Y%m%d-%H%M%S}.pdf"
        try:
            write_rollcall_pdf(markup, path)
            printer = print_on_default_printer(markup)
        except (OSError, RuntimeError) as error:
            log.error("roll-call not written: %s", error)
            panel.show_notice(
                QCoreApplication.translate("Station", "Roll-call not saved: %1").replace("%1", str(error))
            )
            return None
        self.last_pdf, self.last_markup = path, markup
        log.info("roll-call written (%d inside)%s", len(panel.store.inside()), " and printed" if printer else "")
        text = QCoreApplication.translate("Station", "Roll-call saved: %1").replace("%1", str(path))
        if printer:
            text += " · " + QCoreApplication.translate("Station", "printed on %1").replace("%1", printer)
        panel.show_notice(text)
        self._window.show_page(panel)
        return path
