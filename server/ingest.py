"""Idempotent batched ingest: one INSERT ... ON CONFLICT DO NOTHING per batch, RETURNING what was new."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.dialects import postgresql, sqlite

from server.auth import Principal
from server.kiosk_status import record_status
from server.models import events, kiosks
from server.partitions import ensure_days, rows_days
from sync.protocol import FUTURE_TOLERANCE, Batch, BatchResult, EventResult, EventStatus, corrected_time

log = logging.getLogger("server.ingest")
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)  # check-ins began in 2020; earlier is a broken clock
CLOCK_SUSPECT_FLAG = "clock_suspect"


def _json_or_empty(details: dict[str, Any]) -> str:
    try:
        return json.dumps(details)
    except (ValueError, TypeError, RecursionError):
        return "{}"


def _insert_for(engine: Engine) -> Any:
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(events)


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


_COLUMNS = (
    "venue_id",
    "uuid",
    "kiosk_id",
    "direction",
    "credential",
    "person_key",
    "id_number",
    "full_name",
    "date_of_birth",
    "wall_time",
    "corrected_time",
    "clock_offset_ms",
    "monotonic_ns",
    "source",
    "flags",
    "details",
    "received_at",
    "clock_suspect",
)
_PG_TYPES = (
    "int4",
    "text",
    "int4",
    "text",
    "text",
    "text",
    "text",
    "text",
    "date",
    "timestamptz",
    "timestamptz",
    "int8",
    "int8",
    "text",
    "text",
    "text",
    "timestamptz",
    "bool",
)
# One array parameter per column, unnested server-side: a short statement whatever the batch size (a VALUES list
# of 500 rows x 17 columns spends ~100 ms in the driver parsing 8,500 placeholders; this spends ~2 ms).
# `events` is partitioned by day (server/partitions.py): exactly-once is the primary key of `event_uuids`,
# claimed first in the same statement; only the rows whose uuid was new go into `events`.
_PG_INSERT = (
    f"WITH batch AS (SELECT * FROM unnest({', '.join(f'%b::{kind}[]' for kind in _PG_TYPES)}) "
    f"AS b({', '.join(_COLUMNS)})), "
    "new AS (INSERT INTO event_uuids (venue_id, uuid, aged_from) SELECT venue_id, uuid, "
    "CASE WHEN clock_suspect THEN received_at ELSE corrected_time END FROM batch "
    "ON CONFLICT (venue_id, uuid) DO NOTHING RETURNING venue_id, uuid) "
    f"INSERT INTO events ({', '.join(_COLUMNS)}) "
    f"SELECT {', '.join(f'batch.{name}' for name in _COLUMNS)} FROM batch JOIN new USING (venue_id, uuid) "
    "RETURNING uuid"
)


def _insert_postgresql(conn: Any, rows: list[dict[str, Any]]) -> set[str]:
    columns = tuple([row[name] for row in rows] for name in _COLUMNS)
    return {uuid for (uuid,) in conn.exec_driver_sql(_PG_INSERT, columns)}


def ingest(engine: Engine, batch: Batch, principal: Principal, received_at: datetime) -> BatchResult:
    """Store the new events of `batch` (one transaction) and say, per event, what happened to it."""
    rows, refused = plan_rows(batch, principal, received_at)
    stored: set[str] = set()
    if rows and engine.dialect.name == "postgresql":
        ensure_days(engine, rows_days(rows))  # a day's first event makes its partition (cached after)
    with engine.begin() as conn:
        if rows and engine.dialect.name == "postgresql":
            stored = _insert_postgresql(conn, rows)
        elif rows:
            statement = _insert_for(engine).on_conflict_do_nothing(index_elements=["venue_id", "uuid"])
            stored = set(conn.execute(statement.returning(events.c.uuid), rows).scalars())
        conn.execute(
            update(kiosks)
            .where(kiosks.c.id == principal.kiosk_id)
            .values(
                last_seen_at=received_at,
                last_clock_offset_ms=int((received_at - batch.kiosk_time).total_seconds() * 1000),
            )
        )
        record_status(conn, principal, batch.status, received_at)
    refused = {**batch.refused, **refused}  # malformed events (protocol) and events of another venue
    for uuid, reason in refused.items():
        log.warning("refused event %s from kiosk %s: %s", uuid, principal.kiosk_id, reason)  # no personal data
    suspect = sum(1 for row in rows if row["clock_suspect"] and row["uuid"] in stored)
    if suspect:
        log.warning(
            "kiosk %s: %d events stored with a suspect clock (before 2020 or > 24 h ahead)", principal.kiosk_id, suspect
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
