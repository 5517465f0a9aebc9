"""Retention: events, declarations and persons are kept at most `retention_days` after their last use.

- An event's age is its corrected time; an event whose clock was suspect (dated before 2020 or far in the
  future) goes by when it arrived instead: a far-future date would otherwise keep it for ever.
- A declaration (health answers) goes by when it was made.
- A person (name, ID number, birth date, phone) is used by their declarations and by the events recorded with
  their personal QR; once none of those is left and the person is older than the retention, they go too.
`serve` runs this on start and daily (`retention_loop`); `kiosk-server purge` runs it on demand. On PostgreSQL
the events are in day partitions (server/partitions.py): whole days are dropped, the boundary day deleted by rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, delete, exists, false, or_, true
from starlette.concurrency import run_in_threadpool

from server import partitions
from server.models import declarations, events, persons

log = logging.getLogger("server.retention")


@dataclass(frozen=True)
class Purged:
    events: int
    declarations: int
    persons: int


def expired_events(before: datetime) -> ColumnElement[bool]:
    """The WHERE clause of events older than `before` (see the module docstring for suspect clocks)."""
    return or_(
        and_(events.c.clock_suspect.is_(false()), events.c.corrected_time < before),
        and_(events.c.clock_suspect.is_(true()), events.c.received_at < before),
    )


def purge_expired(engine: Engine, before: datetime) -> Purged:
    """Delete every event, declaration and person whose last use is before `before` (one transaction; on a
    partitioned PostgreSQL the events go first, by whole day partitions: server.partitions.purge_events)."""
    event_count = purge_events(engine, before)
    with engine.begin() as conn:
        declaration_count = conn.execute(delete(declarations).where(declarations.c.declared_at < before)).rowcount
        still_declared = exists().where(declarations.c.person_id == persons.c.id)
        # A personal QR's events carry the person id as their id_number (indexed with the time).
        still_scanned = exists().where(events.c.id_number == persons.c.id)
        person_count = conn.execute(
            delete(persons).where(persons.c.created_at < before, ~still_declared, ~still_scanned)
        ).rowcount
    return Purged(int(event_count), int(declaration_count), int(person_count))


def purge_events(engine: Engine, before: datetime, venue_id: int | None = None) -> int:
    """Delete the events (of one venue, or all) older than `before`; returns how many."""
    with engine.connect() as conn:
        partitioned = partitions.is_partitioned(conn)
    if partitioned:
        made = partitions.maintain(engine, datetime.now(UTC))  # days ahead made, the default partition drained
        if made:
            log.info("partitions: made %d day partitions of events", made)
        return partitions.purge_events(engine, before, venue_id).events
    query = delete(events).where(expired_events(before))
    if venue_id is not None:
        query = query.where(events.c.venue_id == venue_id)
    with engine.begin() as conn:
        return int(conn.execute(query).rowcount)


def purge_by_retention(engine: Engine, now: datetime, retention: timedelta) -> Purged:
    purged = purge_expired(engine, now - retention)
    log.info(
        "retention: deleted %d events, %d declarations, %d persons older than %s days",
        purged.events,
        purged.declarations,
        purged.persons,
        retention.days,
    )
    return purged


async def retention_loop(
    engine: Engine, clock: Callable[[], datetime], retention: timedelta, interval: float, first: asyncio.Event
) -> None:
    """Purge now, then every `interval` seconds, until cancelled; `first` is set after the first purge. A
    failed purge (the database is down) is logged in one line and tried again at the next interval."""
    while True:
        try:
            await run_in_threadpool(purge_by_retention, engine, clock(), retention)
        except Exception as exc:  # noqa: BLE001 - the loop must outlive a database outage
            log.error("retention purge failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        first.set()
        await asyncio.sleep(interval)
