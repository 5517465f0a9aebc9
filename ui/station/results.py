"""The scan-result flow: a decision becomes a screen, a sound and a log line; the idle screen comes back after
`ui.result_hold_seconds`; "hold still" when a code is read on some frames and not on others.

One result at a time: `show_result()` per ScanResult (a frame with several codes gives several calls, in order).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.pipeline import ScanResult
from ui.main_window import MainWindow
from ui.protocols import EventReader
from ui.runtime.pipeline_thread import FrameCodes
from ui.runtime.qt_compat import emit
from ui.runtime.sound import SoundPlayer
from ui.station.state import StationState
from ui.widgets.presenter import (
    ResultView,
    cancelled_view,
    headline,
    log_line,
    message_view,
    occupancy_text,
    present,
    reason_text,
)
from ui.widgets.result_panel import most_serious

log = logging.getLogger("qr_checkpoint.station")
HINT_WINDOW_S = 1.0  # a code read on and off over this long, with no result: ask the visitor to hold still


class ScanResults(QObject):
    """Shows decisions on the result panel; GUI thread only."""

    shown = Signal(object)  # ResultView, after it is on screen (tests and benchmarks wait on it)

    def __init__(
        self, state: StationState, window: MainWindow, sounds: SoundPlayer, store: EventReader, parent: QObject
    ) -> None:
        super().__init__(parent)
        self._state = state
        self._window = window
        self._sounds = sounds
        self._store = store
        self._recent_reads: deque[tuple[float, bool]] = deque()
        self._last_result_at = 0.0
        self.hold_timer = QTimer(self)
        self.hold_timer.setSingleShot(True)
        self.intercept: Callable[[ScanResult], bool] | None = None
        self.hold_timer.timeout.connect(self.back_to_idle)
        window.verdict.dismissed.connect(self.back_to_idle)  # a touch: the page underneath is usable again

    def show_result(self, result: ScanResult, flags: tuple[str, ...] = ()) -> None:
        if self.intercept is not None and self.intercept(result):
            return  # not a visitor's decision (an enrolment QR on a new kiosk): its own flow shows it
        station = self._state.settings.station
        occupancy = self.refresh_occupancy()
        self.show_view(present(result, occupancy, station.capacity, station.timezone, flags))
        line = log_line(result, occupancy, station.capacity)
        print(line, flush=True)
        log.info("%s", line)
        worker = self._state.sync.worker
        if worker is not None and result.event is not None:
            worker.wake()

    def show_cancelled(self, moment: datetime) -> None:
        """The declaration was cancelled: nothing recorded, the visitor sees the staff."""
        self.show_view(cancelled_view(moment, self._state.settings.station.timezone))

    def show_message(self, style: str, reason_code: str, moment: datetime) -> None:
        """A screen for a decision the station made itself (nothing recorded), e.g. refused for symptoms."""
        timezone = self._state.settings.station.timezone
        self.show_view(message_view(style, headline(style), reason_text(reason_code), moment, timezone))

    def show_view(self, view: ResultView) -> None:
        window = self._window
        panel = window.result_panel
        panel.show_result(view)
        window.verdict.show_views(panel.group, most_serious(panel.group), panel.occupancy.text())
        self._sounds.play(view.sound)
        self._last_result_at = time.monotonic()
        self.hold_timer.start(int(self._state.settings.ui.result_hold_seconds * 1000))
        if window.current_page() is window.guard_panel:
            window.guard_panel.refresh()
        emit(self.shown, view)

    def back_to_idle(self) -> None:
        self._window.result_panel.show_idle()
        self._window.verdict.clear()

    def codes_seen(self, frame_codes: FrameCodes) -> None:
        """Every decoded frame: outline the codes; on the idle screen, ask to hold still when reads flicker."""
        self._window.preview.show_codes(frame_codes)
        now = time.monotonic()
        self._recent_reads.append((now, bool(frame_codes.codes)))
        while self._recent_reads and now - self._recent_reads[0][0] > HINT_WINDOW_S:
            self._recent_reads.popleft()
        panel = self._window.result_panel
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
            occupancy = int(self._store.occupancy())
        except Exception as error:
            log.error("could not read occupancy: %s", error)
            return 0
        self._window.result_panel.set_occupancy(occupancy_text(occupancy, self._state.settings.station.capacity))
        return occupancy
