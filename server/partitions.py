"""Daily partitions of `events` on PostgreSQL (revision 0006); SQLite keeps one plain table.

- `events` is partitioned by RANGE (corrected_time), one partition per UTC day named `events_pYYYYMMDD`, plus
  `events_default` for what has no partition: clocks that were wrong (before 2020, years ahead) and days nobody
  made a partition for yet. Daily, not weekly: retention then drops whole days and deletes rows only in the one
  day at the boundary (weekly would delete up to six days of rows by hand), and purging a day is one DROP.
- The server makes partitions itself: `serve` makes yesterday .. DAYS_AHEAD days ahead at start and daily
  (`maintain`), and ingest makes on demand any day a batch touches (`ensure_days`, cached per process) — a kiosk
  back from three months offline brings three months of days. Creation runs under an advisory lock: several
  workers ask for the same day at once and one makes it.
- A partition cannot take a unique (venue_id, uuid) key without the partition key, and a resent event may get
  another corrected time (the kiosk's clock offset is measured again). So exactly-once lives in `event_uuids`
  (venue_id, uuid, aged_from): ingest inserts there first, ON CONFLICT DO NOTHING, and stores only what was new.
  `aged_from` is the time retention goes by (corrected time; arrival for a suspect clock).
- Retention (`purge_events`) drops the day partitions wholly before the cut, deletes rows only in the boundary
  day and in the default partition, and forgets the uuids retention let go.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text

PREFIX = "events_p"
DEFAULT_PARTITION = "events_default"
DAYS_AHEAD = 7  # made ahead of time: ingest seldom has to make one while a kiosk waits
EARLIEST_DAY = date(2020, 1, 1)  # check-ins began in 2020 (server.ingest.EARLIEST): earlier goes to the default
_LOCK_KEY = 7_264_190_312  # pg_advisory_xact_lock id for partition changes (next to db's migration lock)
_NAME = re.compile(rf"^{PREFIX}(\d{{8}})$")
_known: dict[str, set[date]] = {}  # engine URL -> days known to have a partition (this process)
_known_lock = threading.RLock()  # re-entered: forget_days and drain_default call _known_days


@dataclass(frozen=True)
class EventsPurged:
    events: int  # rows deleted plus the rows of the partitions dropped
    partitions: int  # day partitions dropped


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass('events')")).scalar()
    return bool(kind == "p")


def partition_name(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def day_partitions(conn: Connection) -> list[date]:
    """The days that have a partition, oldest first."""
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass('events')"
        )
    ).scalars()
    days = [datetime.strptime(found.group(1), "%Y%m%d").date() for name in names if (found := _NAME.match(name))]
    return sorted(days)


def create_day(conn: Connection, day: date) -> bool:
    """Make the day's partition in the caller's transaction, moving its rows out of the default partition;
    False if it was there already. A partition cannot be attached while the default holds rows of its range,
    so the rows go first: CREATE, move, ATTACH (which also builds the partition's indexes)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    name = partition_name(day)
    if conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None:
        return False
    start, end = day_bounds(day)
    conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS)")
    conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE corrected_time >= :start "
            f"AND corrected_time < :end RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        ),
        {"start": start, "end": end},
    )
    conn.exec_driver_sql(
        f"ALTER TABLE events ATTACH PARTITION {name} FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )
    return True


def _known_days(engine: Engine) -> set[date]:
    with _known_lock:
        return _known.setdefault(str(engine.url), set())


def forget_days(engine: Engine, days: Iterable[date]) -> None:
    with _known_lock:
        _known.setdefault(str(engine.url), set()).difference_update(days)


def ensure_days(engine: Engine, days: Iterable[date]) -> int:
    """Make sure each day (from 2020 on) has a partition; returns how many were made. Cheap when cached."""
    known = _known_days(engine)
    missing = sorted({day for day in days if day >= EARLIEST_DAY} - known)
    if not missing:
        return 0
    made = 0
    with engine.begin() as conn:
        for day in missing:
            made += create_day(conn, day)
    with _known_lock:
        known.update(missing)
    return made


def rows_days(rows: Iterable[dict[str, Any]]) -> set[date]:
    """The UTC days of the rows ingest is about to store; suspect clocks are left to the default partition."""
    return {row["corrected_time"].astimezone(UTC).date() for row in rows if not row["clock_suspect"]}


def drain_default(engine: Engine, now: datetime) -> int:
    """Move the default partition's rows of sane days (2020 .. DAYS_AHEAD ahead) into day partitions made for
    them; returns how many days were made. Rows with a suspect clock stay: retention ages them by arrival."""
    start, _ = day_bounds(EARLIEST_DAY)
    _, end = day_bounds(now.astimezone(UTC).date() + timedelta(days=DAYS_AHEAD))
    with engine.connect() as conn:
        days = conn.execute(
            text(
                f"SELECT DISTINCT (corrected_time AT TIME ZONE 'UTC')::date FROM {DEFAULT_PARTITION} "
                "WHERE corrected_time >= :start AND corrected_time < :end"
            ),
            {"start": start, "end": end},
        ).scalars()
        wanted = sorted(days)
    made = 0
    for day in wanted:
        with engine.begin() as conn:
            made += create_day(conn, day)
    with _known_lock:
        _known_days(engine).update(wanted)
    return made


def maintain(engine: Engine, now: datetime) -> int:
    """What `serve` runs at start and daily: partitions from yesterday to DAYS_AHEAD ahead, and the default
    partition drained. No-op on SQLite. Returns how many partitions were made."""
    with engine.connect() as conn:
        if not is_partitioned(conn):
            return 0
    today = now.astimezone(UTC).date()
    forget_days(
        engine, [today + timedelta(days=n) for n in range(-1, DAYS_AHEAD + 1)]
    )  # ask the catalogue again: dropped by hand?
    made = ensure_days(engine, [today + timedelta(days=n) for n in range(-1, DAYS_AHEAD + 1)])
    return made + drain_default(engine, now)


def _rows_in(conn: Connection, name: str) -> int:
    """Rows of a partition about to be dropped: counted when small, else the planner's estimate (a count of a
    50M-row day would cost more than the drop)."""
    estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:n)"), {"n": name}).scalar()
    if estimate is not None and estimate >= 1_000_000:
        return int(estimate)
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one())


def drop_days_before(engine: Engine, before: datetime) -> tuple[int, int]:
    """Drop every day partition that ends at or before `before`, each in its own short transaction (DROP locks
    `events` for the moment it takes); returns (partitions, rows)."""
    with engine.connect() as conn:
        doomed = [day for day in day_partitions(conn) if day_bounds(day)[1] <= before]
    rows = dropped = 0
    for day in doomed:
        name = partition_name(day)
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            if conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is None:
                continue  # another worker's purge dropped it a moment ago (every worker purges at start)
            rows += _rows_in(conn, name)
            conn.exec_driver_sql(f"DROP TABLE {name}")
            dropped += 1
    forget_days(engine, doomed)
    return dropped, rows


def purge_events(engine: Engine, before: datetime, venue_id: int | None = None) -> EventsPurged:
    """Retention of events on a partitioned table: whole days dropped (all venues only), then rows deleted
    where a cut runs through (the boundary day, the default partition), then the uuids let go."""
    dropped, rows = drop_days_before(engine, before) if venue_id is None else (0, 0)
    venue = "" if venue_id is None else " AND venue_id = :venue"
    values = {"before": before, "venue": venue_id}
    with engine.begin() as conn:
        rows += conn.execute(
            text(f"DELETE FROM events WHERE corrected_time < :before AND NOT clock_suspect{venue}"), values
        ).rowcount
        # A suspect clock goes by its arrival. Such rows live in the default partition; one dated a few days ahead
        # lands in a day made ahead and goes with that day, at most DAYS_AHEAD days later than by its arrival.
        rows += conn.execute(
            text(f"DELETE FROM {DEFAULT_PARTITION} WHERE clock_suspect AND received_at < :before{venue}"), values
        ).rowcount
        conn.execute(text(f"DELETE FROM event_uuids WHERE aged_from < :before{venue}"), values)
    return EventsPurged(int(rows), dropped)
