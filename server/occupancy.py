"""A venue now and this week: how many are inside, who (the evacuation list), entries per hour and per day.

"Inside" is the person's last event at the venue within `LOOKBACK` being an entry. Kiosks check everyone out at
their closing time and those exits sync like any scan; the look-back only keeps a visit nobody closed (a kiosk
without a closing time, a back door) from counting for ever. Times are the server's (`corrected_time`);
events with a suspect clock are left out, their time says nothing about now.

Counts are grouped in the database by quarter hour of UTC (every time zone's offset is a whole number of
quarter hours), then folded into the venue's local hours and days here: a handful of rows, whatever the traffic.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Integer, and_, cast, false, func, literal_column, select

from server.models import events, kiosks

LOOKBACK = timedelta(hours=24)
QUARTER_S = 900


@dataclass(frozen=True)
class Visitor:
    """Someone inside now: what an evacuation roll-call needs."""

    full_name: str
    id_number: str
    phone: str
    credential: str
    entered_at: datetime
    kiosk_name: str
    flags: tuple[str, ...]


def _last_events(venue_id: int, now: datetime) -> Any:
    """Each person's latest event at the venue in the look-back window (an exit wins a tie: it came after)."""
    ranked = (
        select(
            events.c.uuid,
            func.row_number()
            .over(
                partition_by=events.c.person_key,
                order_by=(events.c.corrected_time.desc(), (events.c.direction == "exit").desc()),
            )
            .label("rank"),
        )
        .where(
            events.c.venue_id == venue_id,
            events.c.corrected_time > now - LOOKBACK,
            events.c.corrected_time <= now,
            events.c.clock_suspect == false(),
        )
        .subquery()
    )
    return select(ranked.c.uuid).where(ranked.c.rank == 1)


def occupancy(conn: Connection, venue_id: int, now: datetime) -> int:
    """How many people are inside the venue now."""
    last = _last_events(venue_id, now).subquery()
    query = (
        select(func.count())
        .select_from(events.join(last, and_(events.c.venue_id == venue_id, events.c.uuid == last.c.uuid)))
        .where(events.c.direction == "entry")
    )
    return int(conn.execute(query).scalar_one())


def inside_now(conn: Connection, venue_id: int, now: datetime) -> list[Visitor]:
    """Everyone inside now, by name (the printable evacuation list)."""
    last = _last_events(venue_id, now).subquery()
    query = (
        select(
            events.c.full_name,
            events.c.id_number,
            events.c.credential,
            events.c.corrected_time,
            events.c.details,
            events.c.flags,
            kiosks.c.name.label("kiosk_name"),
            events.c.kiosk_id,
        )
        .select_from(
            events.join(last, and_(events.c.venue_id == venue_id, events.c.uuid == last.c.uuid)).outerjoin(
                kiosks, kiosks.c.id == events.c.kiosk_id
            )
        )
        .where(events.c.direction == "entry")
        .order_by(events.c.full_name, events.c.corrected_time)
    )
    return [
        Visitor(
            full_name=row.full_name,
            id_number=row.id_number,
            phone=_phone(row.details),
            credential=row.credential,
            entered_at=row.corrected_time,
            kiosk_name=row.kiosk_name or f"#{row.kiosk_id}",
            flags=tuple(_json(row.flags, [])),
        )
        for row in conn.execute(query)
    ]


def _json(text: str, default: Any) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return default


def _phone(details: str) -> str:
    value = _json(details, {})
    phone = value.get("phone") if isinstance(value, dict) else None
    return phone if isinstance(phone, str) else ""


def _quarter(conn: Connection) -> Any:
    """The event's quarter hour as whole quarters since the epoch (UTC), in each dialect's own words."""
    if conn.dialect.name == "postgresql":
        return func.floor(func.extract("epoch", events.c.corrected_time) / QUARTER_S)
    return cast(func.strftime("%s", events.c.corrected_time), Integer).op("/")(literal_column(str(QUARTER_S)))


def _entries_by_quarter(conn: Connection, venue_id: int, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    quarter = _quarter(conn).label("quarter")
    query = (
        select(quarter, func.count())
        .where(
            events.c.venue_id == venue_id,
            events.c.direction == "entry",
            events.c.corrected_time >= start,
            events.c.corrected_time < end,
            events.c.clock_suspect == false(),
        )
        .group_by(quarter)
    )
    return [(datetime.fromtimestamp(int(q) * QUARTER_S, UTC), int(n)) for q, n in conn.execute(query)]


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def entries_per_hour(conn: Connection, venue_id: int, day: date, zone: ZoneInfo) -> list[int]:
    """Entries in each local hour (0-23) of `day` in the venue's time zone."""
    start, end = _day_bounds(day, zone)
    hours = [0] * 24
    for moment, count in _entries_by_quarter(conn, venue_id, start, end):
        hours[moment.astimezone(zone).hour] += count
    return hours


def entries_per_day(
    conn: Connection, venue_id: int, last_day: date, zone: ZoneInfo, days: int = 7
) -> list[tuple[date, int]]:
    """Entries on each of the `days` local days ending with `last_day`, oldest first."""
    first_day = last_day - timedelta(days=days - 1)
    start, _ = _day_bounds(first_day, zone)
    _, end = _day_bounds(last_day, zone)
    counts: Counter[date] = Counter()
    for moment, count in _entries_by_quarter(conn, venue_id, start, end):
        counts[moment.astimezone(zone).date()] += count
    return [(first_day + timedelta(days=n), counts[first_day + timedelta(days=n)]) for n in range(days)]
