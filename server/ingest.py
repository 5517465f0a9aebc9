"""Idempotent batched ingest: one INSERT ... ON CONFLICT DO NOTHING per batch, RETURNING what was new."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Engine, update
from sqlalchemy.dialects import sqlite

from server.auth import Principal
from server.kiosk_status import record_status
from server.models import events, kiosks
from server.partitions import UUID_MARGIN, UUIDS, ensure_days, missing_days
from sync.protocol import FUTURE_TOLERANCE, Batch, BatchResult, EventResult, EventStatus, corrected_time

log = logging.getLogger("server.ingest")
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)  # check-ins began in 2020; earlier is a broken clock
CLOCK_SUSPECT_FLAG = "clock_suspect"


def _json_or_empty(details: dict[str, Any]) -> str:
    try:
        return json.dumps(details)
    except (ValueError, TypeError, RecursionError):
        return "{}"


def plan_rows(batch: Batch, principal: Principal, received_at: datetime) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Rows to insert, and uuid -> reason for the events refused (another venue's only).

    An event whose corrected time is before 2020 or more than 24 h ahead was scanned while the kiosk's clock was
    wrong (a dead CMOS battery boots in 2010, NTP fixes it later): it is stored all the same, flagged
    `clock_suspect`, with the kiosk's wall time as it was. Refusing it would lose it: the kiosk purges what the
    server answered."""
    assert principal.venue_id is not None and principal.kiosk_id is not None
    offset = received_at - batch.kiosk_time
    offset_ms = int(offset.total_seconds() * 1000)
    latest = received_at + FUTURE_TOLERANCE
    rows: list[dict[str, Any]] = []
    refused: dict[str, str] = {}
    seen: set[str] = set()
    for event in batch.events:
        claimed = batch.claimed_venue.get(event.uuid)
        if claimed is not None and claimed != str(principal.venue_id):
            refused[event.uuid] = "venue_id is not this kiosk's venue"
            continue
        try:
            corrected = corrected_time(event.wall_time, batch.kiosk_time, received_at)
        except OverflowError:
            corrected = event.wall_time  # the correction runs off the calendar: keep the kiosk's own time
            suspect = True
        else:
            suspect = not EARLIEST <= corrected <= latest
        if event.uuid in seen:
            continue  # repeated inside the batch: the second copy is answered "duplicate"
        seen.add(event.uuid)
        flags = list(event.flags)
        if suspect and CLOCK_SUSPECT_FLAG not in flags:
            flags.append(CLOCK_SUSPECT_FLAG)  # also in the flags: the CSV export shows them
        rows.append(
            {
                "venue_id": principal.venue_id,
                "uuid": event.uuid,
                "kiosk_id": principal.kiosk_id,
                "direction": str(event.direction),
                "credential": event.credential,  # the protocol refuses longer than the column (FIELD_LIMITS)
                "person_key": event.person_key,
                "id_number": event.id_number,
                "full_name": event.full_name,
                "date_of_birth": event.date_of_birth,
                "wall_time": event.wall_time,
                "corrected_time": corrected,
                "clock_offset_ms": offset_ms,
                "monotonic_ns": event.monotonic_ns,
                "source": event.source,
                # ASCII-escaped JSON: an unpaired surrogate in `details` cannot break the database's UTF-8.
                "flags": json.dumps(flags),
                "details": _json_or_empty(event.details),
                "received_at": received_at,
                "clock_suspect": suspect,
            }
        )
    return rows, refused


# The columns that vary per event, one parameter each; venue, kiosk, clock offset and arrival are one per batch.
_PER_EVENT = {
    "uuid": "text",
    "direction": "text",
    "credential": "text",
    "person_key": "text",
    "id_number": "text",
    "full_name": "text",
    "date_of_birth": "date",
    "wall_time": "timestamptz",
    "corrected_time": "timestamptz",
    "monotonic_ns": "int8",
    "source": "text",
    "flags": "text",
    "details": "text",
    "clock_suspect": "bool",
}
_PER_BATCH = {"venue_id": "int4", "kiosk_id": "int4", "clock_offset_ms": "int8", "received_at": "timestamptz"}
_COLUMNS = tuple(events.c.keys())
# The text columns go as one parameter each, the values joined by newlines and split server-side: psycopg dumps
# an array element by element in Python (~0.25 ms per column of 500), a join is one C call. No value can hold a
# newline: the protocol refuses control characters in text fields, and JSON escapes them in flags and details
# (`_joined` checks all the same). Each value follows its newline, so that one empty value is still one element.
_JOINED = frozenset(name for name, kind in _PER_EVENT.items() if kind == "text")


def _column_sql(name: str, kind: str) -> str:
    if name in _JOINED:
        return f"(string_to_array(%({name})s::text, chr(10)))[2:]"
    return f"%({name})b::{kind}[]"


# One parameter per column, unnested server-side: a short statement whatever the batch size (a VALUES list of
# 500 rows x 17 columns spends ~100 ms in the driver parsing 8,500 placeholders; this spends ~2 ms).
# `events` is partitioned by day (server/partitions.py): exactly-once is the primary key of `event_uuids`,
# claimed first in the same statement, in the partition of the event's recorded day (`wall_day`, the same on
# every resend); only the rows whose uuid was new go into `events`. The kiosk's last-seen row is updated by the
# same statement: one round trip per batch, answered by one row (the stored uuids, newline-joined).
_PG_INSERT = (
    f"WITH batch AS (SELECT * FROM unnest({', '.join(_column_sql(name, kind) for name, kind in _PER_EVENT.items())}) "
    f"AS b({', '.join(_PER_EVENT)})), "
    "new AS (INSERT INTO event_uuids (venue_id, uuid, wall_day, aged_from) "
    "SELECT %(venue_id)b::int4, uuid, (wall_time AT TIME ZONE 'UTC')::date, "
    "CASE WHEN clock_suspect THEN %(received_at)b::timestamptz ELSE corrected_time END FROM batch "
    "ON CONFLICT (venue_id, uuid, wall_day) DO NOTHING RETURNING uuid), "
    "seen AS (UPDATE kiosks SET last_seen_at = %(received_at)b::timestamptz, "
    "last_clock_offset_ms = %(clock_offset_ms)b::int8 WHERE id = %(kiosk_id)b::int4), "
    f"stored AS (INSERT INTO events ({', '.join(_COLUMNS)}) SELECT "
    + ", ".join(f"%({name})b::{_PER_BATCH[name]}" if name in _PER_BATCH else f"batch.{name}" for name in _COLUMNS)
    + " FROM batch JOIN new USING (uuid) RETURNING uuid) SELECT string_agg(uuid, chr(10)) FROM stored"
)


def _joined(values: list[str]) -> str:
    """One text parameter for _PG_INSERT: each value after a newline."""
    text = "\n" + "\n".join(values) if values else ""
    if text.count("\n") != len(values):
        raise ValueError("a text value holds a newline")  # the protocol's checks let one through: a bug
    return text


_UUID, _WALL, _FLAGS, _DETAILS, _DIRECTION = (
    attrgetter(name) for name in ("uuid", "wall_time", "flags", "details", "direction")
)


def _flags_json(flags: tuple[str, ...], suspect: bool) -> str:
    if not suspect:
        return json.dumps(list(flags)) if flags else "[]"
    return json.dumps([*flags, CLOCK_SUSPECT_FLAG] if CLOCK_SUSPECT_FLAG not in flags else list(flags))


def _fast_columns(batch: Batch, received_at: datetime) -> dict[str, list[Any]] | None:
    """plan_rows' columns computed a column at a time, for a batch without a claimed venue, a repeated uuid or a
    correction off the calendar (None: plan_rows decides, event by event)."""
    found = batch.events
    uuids = list(map(_UUID, found))
    if batch.claimed_venue or len(set(uuids)) != len(uuids):
        return None
    offset = received_at - batch.kiosk_time
    walls = list(map(_WALL, found))
    try:
        corrected = [wall + offset for wall in walls]  # sync.protocol.corrected_time, the offset computed once
    except OverflowError:
        return None
    latest = received_at + FUTURE_TOLERANCE
    suspect = [not EARLIEST <= moment <= latest for moment in corrected]
    return {
        "uuid": uuids,
        "direction": list(map(str, map(_DIRECTION, found))),
        "credential": [event.credential for event in found],
        "person_key": [event.person_key for event in found],
        "id_number": [event.id_number for event in found],
        "full_name": [event.full_name for event in found],
        "date_of_birth": [event.date_of_birth for event in found],
        "wall_time": walls,
        "corrected_time": corrected,
        "monotonic_ns": [event.monotonic_ns for event in found],
        "source": [event.source for event in found],
        "flags": list(map(_flags_json, map(_FLAGS, found), suspect)),
        "details": [_json_or_empty(details) if details else "{}" for details in map(_DETAILS, found)],
        "clock_suspect": suspect,
    }


def plan_columns(
    batch: Batch, principal: Principal, received_at: datetime
) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """plan_rows as one list per column of _PER_EVENT (what the PostgreSQL statement takes)."""
    fast = _fast_columns(batch, received_at)
    if fast is not None:
        return fast, {}
    rows, refused = plan_rows(batch, principal, received_at)
    return {name: [row[name] for row in rows] for name in _PER_EVENT}, refused


def _days(columns: dict[str, list[Any]]) -> tuple[set[date], set[date]]:
    """The days `events` and `event_uuids` need a partition for. A suspect clock goes to the default partitions;
    so does a uuid recorded more than UUID_MARGIN away from its corrected day (a kiosk clock days off: no
    partition is made for a day of its own clock)."""
    event_days: set[date] = set()
    uuid_days: set[date] = set()
    for wall, moment, suspect in zip(
        columns["wall_time"], columns["corrected_time"], columns["clock_suspect"], strict=True
    ):
        if not suspect:
            event_days.add(moment.astimezone(UTC).date())
            if abs(wall - moment) <= UUID_MARGIN:
                uuid_days.add(wall.astimezone(UTC).date())
    return event_days, uuid_days


def _insert_postgresql(conn: Connection, batch: Batch, principal: Principal, received_at: datetime) -> _Stored:
    """Claim the uuids, store the new events, note the kiosk seen: one statement, in the connection's transaction."""
    columns, refused = plan_columns(batch, principal, received_at)
    offset_ms = int((received_at - batch.kiosk_time).total_seconds() * 1000)
    stored: set[str] = set()
    if columns["uuid"]:
        event_days, uuid_days = _days(columns)
        if missing_days(conn.engine, event_days) or missing_days(conn.engine, uuid_days, UUIDS):
            conn.commit()  # a day's first event: its partition is made in a transaction of its own (then cached)
            ensure_days(conn, event_days)
            ensure_days(conn, uuid_days, UUIDS)
        values: dict[str, Any] = {
            name: _joined(columns[name]) if name in _JOINED else columns[name] for name in columns
        }
        values |= {"venue_id": principal.venue_id, "kiosk_id": principal.kiosk_id}
        values |= {"clock_offset_ms": offset_ms, "received_at": received_at}
        joined = conn.exec_driver_sql(_PG_INSERT, values).scalar_one()
        stored = set(joined.split("\n")) if joined else set()
    else:
        _seen(conn, principal, received_at, offset_ms)
    record_status(conn, principal, batch.status, received_at)
    suspect = sum(
        1 for uuid, flag in zip(columns["uuid"], columns["clock_suspect"], strict=True) if flag and uuid in stored
    )
    return _Stored(stored, refused, suspect)


def _insert_sqlite(conn: Connection, batch: Batch, principal: Principal, received_at: datetime) -> _Stored:
    rows, refused = plan_rows(batch, principal, received_at)
    stored: set[str] = set()
    if rows:
        statement = sqlite.insert(events).on_conflict_do_nothing(index_elements=["venue_id", "uuid"])
        stored = set(conn.execute(statement.returning(events.c.uuid), rows).scalars())
    _seen(conn, principal, received_at, int((received_at - batch.kiosk_time).total_seconds() * 1000))
    record_status(conn, principal, batch.status, received_at)
    return _Stored(stored, refused, sum(1 for row in rows if row["clock_suspect"] and row["uuid"] in stored))


@dataclass
class _Stored:
    uuids: set[str]  # new, stored now
    refused: dict[str, str]  # uuid -> why (another venue's)
    suspect: int  # of the stored, how many with a suspect clock


def _seen(conn: Connection, principal: Principal, received_at: datetime, offset_ms: int) -> None:
    conn.execute(
        update(kiosks)
        .where(kiosks.c.id == principal.kiosk_id)
        .values(last_seen_at=received_at, last_clock_offset_ms=offset_ms)
    )


def ingest(engine: Engine, batch: Batch, principal: Principal, received_at: datetime) -> BatchResult:
    """Store the new events of `batch` (one transaction) and say, per event, what happened to it."""
    with engine.connect() as conn:
        return ingest_in(conn, batch, principal, received_at)


def ingest_in(conn: Connection, batch: Batch, principal: Principal, received_at: datetime) -> BatchResult:
    """ingest() in the connection's transaction, which it commits: what the caller did in it first (the sync
    route checks the kiosk's token there) costs no transaction of its own."""
    insert = _insert_postgresql if conn.dialect.name == "postgresql" else _insert_sqlite
    done = insert(conn, batch, principal, received_at)
    conn.commit()
    stored = done.uuids
    refused = {**batch.refused, **done.refused}  # malformed events (protocol) and events of another venue
    for uuid, reason in refused.items():
        log.warning("refused event %s from kiosk %s: %s", uuid, principal.kiosk_id, reason)  # no personal data
    if done.suspect:
        log.warning(
            "kiosk %s: %d events stored with a suspect clock (before 2020 or > 24 h ahead)",
            principal.kiosk_id,
            done.suspect,
        )
    results = [EventResult(uuid, EventStatus.REFUSED, reason) for uuid, reason in batch.refused.items()]
    for event in batch.events:
        if event.uuid in refused and event.uuid not in batch.refused:
            results.append(EventResult(event.uuid, EventStatus.REFUSED, refused[event.uuid]))
        elif event.uuid in stored:
            stored.discard(event.uuid)  # a repeat later in the same batch is a duplicate
            results.append(EventResult(event.uuid, EventStatus.STORED))
        else:
            results.append(EventResult(event.uuid, EventStatus.DUPLICATE))
    return BatchResult(server_time=received_at, results=tuple(results))
