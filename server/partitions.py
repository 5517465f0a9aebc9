"""Daily partitions of `events` and `event_uuids` on PostgreSQL (revisions 0006, 0009); SQLite keeps one table.

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
  (venue_id, uuid, wall_day, aged_from): ingest inserts there first, ON CONFLICT DO NOTHING, and stores only what
  was new. `aged_from` is the time retention goes by (corrected time; arrival for a suspect clock).
- `event_uuids` is partitioned too (0009), by `wall_day`: the UTC day of the event's `wall_time`, the time the
  kiosk recorded with the event and sends unchanged on every resend (its store keeps it; only `kiosk_time`, the
  batch's clock, is new). A resend lands in the partition of the first copy, where the key finds it. Days nobody
  made a partition for (a kiosk clock years off) go to `event_uuids_default`.
- Retention (`purge_events`) drops the day partitions of `events` wholly before the cut, deletes rows only in the
  boundary day and in the default partition. The uuids go by partition too, UUID_MARGIN later than their events'
  days: a day's uuid partition is dropped once it ends UUID_MARGIN before the cut, after moving into the default
  partition the few rows whose event is still kept (aged_from at or after the cut: a kiosk whose clock was
  behind by more than the margin). So a uuid is forgotten only once its event is, as before 0009, and a day of
  50M uuids costs one DROP, not 50M row deletes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text


@dataclass(frozen=True)
class Partitioned:
    """A table partitioned by day: its name, its partitions' prefix, its default partition, its key column."""

    parent: str
    prefix: str
    default: str
    key: str
    by_date: bool  # the key is a date (event_uuids.wall_day), else a timestamptz (events.corrected_time)

    def bound(self, day: date) -> str:
        start, _ = day_bounds(day)
        return day.isoformat() if self.by_date else start.isoformat()


EVENTS = Partitioned("events", "events_p", "events_default", "corrected_time", by_date=False)
UUIDS = Partitioned("event_uuids", "event_uuids_p", "event_uuids_default", "wall_day", by_date=True)
PREFIX = EVENTS.prefix
DEFAULT_PARTITION = EVENTS.default
DAYS_AHEAD = 7  # made ahead of time: ingest seldom has to make one while a kiosk waits
EARLIEST_DAY = date(2020, 1, 1)  # check-ins began in 2020 (server.ingest.EARLIEST): earlier goes to the default
# A day's uuids are dropped this long after the day's events: only a kiosk whose clock was behind by more than this
# has rows to move to the default partition first (the recorded time runs a day ahead of the corrected one).
UUID_MARGIN = timedelta(days=1)
_LOCK_KEY = 7_264_190_312  # pg_advisory_xact_lock id for partition changes (next to db's migration lock)
_known: dict[tuple[str, str], set[date]] = {}  # (engine URL, table) -> days known to have a partition (this process)
_known_lock = threading.RLock()  # re-entered: forget_days and drain_default call _known_days


@dataclass(frozen=True)
class EventsPurged:
    events: int  # rows deleted plus the rows of the partitions dropped
    partitions: int  # day partitions of events dropped
    uuid_partitions: int = 0  # day partitions of event_uuids dropped


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass('events')")).scalar()
    return bool(kind == "p")


def partition_name(day: date, table: Partitioned = EVENTS) -> str:
    return f"{table.prefix}{day:%Y%m%d}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def day_partitions(conn: Connection, table: Partitioned = EVENTS) -> list[date]:
    """The days that have a partition, oldest first."""
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent)"
        ),
        {"parent": table.parent},
    ).scalars()
    pattern = re.compile(rf"^{table.prefix}(\d{{8}})$")
    days = [datetime.strptime(found.group(1), "%Y%m%d").date() for name in names if (found := pattern.match(name))]
    return sorted(days)


def create_day(conn: Connection, day: date, table: Partitioned = EVENTS) -> bool:
    """Make the day's partition in the caller's transaction, moving its rows out of the default partition;
    False if it was there already. A partition cannot be attached while the default holds rows of its range,
    so the rows go first: CREATE, move, ATTACH (which also builds the partition's indexes)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    name = partition_name(day, table)
    if conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None:
        return False
    start, end = day_bounds(day)
    bounds = {"start": day, "end": day + timedelta(days=1)} if table.by_date else {"start": start, "end": end}
    conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE {table.parent} INCLUDING DEFAULTS)")
    conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {table.default} WHERE {table.key} >= :start "
            f"AND {table.key} < :end RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        ),
        bounds,
    )
    conn.exec_driver_sql(
        f"ALTER TABLE {table.parent} ATTACH PARTITION {name} "
        f"FOR VALUES FROM ('{table.bound(day)}') TO ('{table.bound(day + timedelta(days=1))}')"
    )
    return True


def _known_days(engine: Engine, table: Partitioned = EVENTS) -> set[date]:
    with _known_lock:
        return _known.setdefault((str(engine.url), table.parent), set())


def forget_days(engine: Engine, days: Iterable[date], table: Partitioned = EVENTS) -> None:
    with _known_lock:
        _known_days(engine, table).difference_update(days)


def missing_days(engine: Engine, days: Iterable[date], table: Partitioned = EVENTS) -> list[date]:
    """The days (from 2020 on) this process has not seen a partition of: nothing asked of the database."""
    return sorted({day for day in days if day >= EARLIEST_DAY} - _known_days(engine, table))


def ensure_days(bind: Engine | Connection, days: Iterable[date], table: Partitioned = EVENTS) -> int:
    """Make sure each day (from 2020 on) has a partition; returns how many were made. Cheap when cached.
    Given a connection, it must not be in a transaction: the partitions are made in one of their own."""
    engine = bind if isinstance(bind, Engine) else bind.engine
    missing = missing_days(engine, days, table)
    if not missing:
        return 0
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return ensure_days(conn, missing, table)
    made = 0
    with bind.begin():
        for day in missing:
            made += create_day(bind, day, table)
    with _known_lock:
        _known_days(engine, table).update(missing)
    return made


def rows_days(rows: Iterable[dict[str, Any]]) -> set[date]:
    """The UTC days of the rows ingest is about to store; suspect clocks are left to the default partition."""
    return {row["corrected_time"].astimezone(UTC).date() for row in rows if not row["clock_suspect"]}


def drain_default(engine: Engine, now: datetime) -> int:
    """Move the default partition's rows of sane days (2020 .. DAYS_AHEAD ahead) into day partitions made for
    them; returns how many days were made. Rows with a suspect clock stay: retention ages them by arrival.
    (event_uuids' default is not drained: its rows are the uuids of days already dropped, kept for their events.)"""
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
    """What `serve` runs at start and daily: partitions of both tables from yesterday to DAYS_AHEAD ahead, and
    the default partition of events drained. No-op on SQLite. Returns how many partitions were made."""
    with engine.connect() as conn:
        if not is_partitioned(conn):
            return 0
    today = now.astimezone(UTC).date()
    days = [today + timedelta(days=n) for n in range(-1, DAYS_AHEAD + 1)]
    made = 0
    for table in (EVENTS, UUIDS):
        forget_days(engine, days, table)  # ask the catalogue again: dropped by hand?
        made += ensure_days(engine, days, table)
    return made + drain_default(engine, now)


def _rows_in(conn: Connection, name: str) -> int:
    """Rows of a partition about to be dropped: counted when small, else the planner's estimate (a count of a
    50M-row day would cost more than the drop)."""
    estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:n)"), {"n": name}).scalar()
    if estimate is not None and estimate >= 1_000_000:
        return int(estimate)
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one())


def _drop_one(conn: Connection, day: date, table: Partitioned, before: datetime) -> int | None:
    """Drop one day partition (None: another worker's purge dropped it a moment ago; every worker purges at start);
    the rows it held. A uuid partition's rows whose event is still kept move to the default partition first."""
    name = partition_name(day, table)
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    if conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is None:
        return None
    rows = _rows_in(conn, name)
    if table is UUIDS:
        conn.exec_driver_sql(f"ALTER TABLE {table.parent} DETACH PARTITION {name}")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the aged_from index: never read 50M rows for none
        conn.execute(
            text(f"INSERT INTO {table.default} SELECT * FROM {name} WHERE aged_from >= :before"), {"before": before}
        )
    conn.exec_driver_sql(f"DROP TABLE {name}")
    return rows


def drop_days_before(engine: Engine, before: datetime, table: Partitioned = EVENTS) -> tuple[int, int]:
    """Drop every day partition that ends at or before `before` (for event_uuids: UUID_MARGIN earlier), each in
    its own short transaction (DROP locks the table for the moment it takes); returns (partitions, rows)."""
    last_end = before - UUID_MARGIN if table is UUIDS else before
    with engine.connect() as conn:
        doomed = [day for day in day_partitions(conn, table) if day_bounds(day)[1] <= last_end]
    rows = dropped = 0
    for day in doomed:
        with engine.begin() as conn:
            held = _drop_one(conn, day, table, before)
        if held is not None:
            rows, dropped = rows + held, dropped + 1
    forget_days(engine, doomed, table)
    return dropped, rows


def purge_events(engine: Engine, before: datetime, venue_id: int | None = None) -> EventsPurged:
    """Retention of events on a partitioned table: whole days dropped (all venues only), then rows deleted
    where a cut runs through (the boundary day, the default partition), then the uuids let go."""
    dropped, rows = drop_days_before(engine, before) if venue_id is None else (0, 0)
    uuid_days = drop_days_before(engine, before, UUIDS)[0] if venue_id is None else 0
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
        # All venues: the day partitions' uuids go with their partition (above); a venue's, by rows everywhere.
        uuids = UUIDS.default if venue_id is None else UUIDS.parent
        conn.execute(text(f"DELETE FROM {uuids} WHERE aged_from < :before{venue}"), values)
    return EventsPurged(int(rows), dropped, uuid_days)
