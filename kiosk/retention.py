"""Retention on the kiosk: what `station.retention_days` promises, applied by `kiosk scan` at start and by the
station at start and once a day.

Synced events older than the period go; unsynced ones never do. Visits still open after the whole period (an
entry-only door) are closed first so that they age too, and events dated in the future by a clock that ran ahead
age from when the server acknowledged them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionReport:
    closed_visits: int  # people taken off the roll-call: their last event was an entry older than the period
    purged_events: int


def apply_retention(store: Store, retention_days: int, now: datetime) -> RetentionReport:
    cut = now - timedelta(days=retention_days)
    report = RetentionReport(store.close_stale_entries(cut), store.purge(cut, now=now))
    if report.closed_visits or report.purged_events:
        log.info("retention: %d visits closed, %d events purged", report.closed_visits, report.purged_events)
    return report
