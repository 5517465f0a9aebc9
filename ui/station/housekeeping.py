"""What the station does by the clock, not by a scan: the closing-time check-out (`station.closing_time`) and
retention (`station.retention_days`) at start and once a day, as `kiosk scan` does at its start.

Retention runs on the task runner's pool (the store serialises its writes); the check-out runs on the pipeline
thread, the writer of scans, like the guard's manual check-out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QTimer

from kiosk.retention import RetentionReport
from ui.protocols import ScanPipeline
from ui.station.jobs import PipelineJobs
from ui.station.state import StationServices, StationState

log = logging.getLogger("qr_checkpoint.station")
TICK_MS = 60_000  # the closing time is a minute; a minute late is on time for a guard
RETENTION_INTERVAL_S = 24 * 3600.0


class Housekeeping(QObject):
    def __init__(
        self,
        state: StationState,
        services: StationServices,
        jobs: PipelineJobs,
        clock: Callable[[], datetime],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._state, self._services, self._jobs, self._clock = state, services, jobs, clock
        self._retention_ran_at: float | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        self.tick()
        self.timer.start()

    def tick(self) -> None:
        now = self._clock()
        self._jobs.run(lambda pipeline: _closing_checkout(pipeline, now))
        due = self._retention_ran_at is None or time.monotonic() - self._retention_ran_at >= RETENTION_INTERVAL_S
        if due:
            self._retention_ran_at = time.monotonic()
            days = self._state.settings.station.retention_days
            self._services.tasks.run_in_background(
                lambda: self._services.retention(days, now), self._retention_done, _retention_failed
            )

    @staticmethod
    def _retention_done(report: RetentionReport) -> None:
        log.info("retention: %d visits closed, %d events purged", report.closed_visits, report.purged_events)


def _closing_checkout(pipeline: ScanPipeline, now: datetime) -> int:
    checked_out = len(pipeline.auto_checkout_if_due(now))
    if checked_out:
        log.info("closing time: %d people checked out", checked_out)
    return checked_out


def _retention_failed(error: Exception) -> None:  # e.g. a full disk: scanning goes on, the next day tries again
    log.error("retention failed: %s", error)
