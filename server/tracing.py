"""Contact tracing: a person's stays in a window, and everyone whose stay at the same venue overlapped.

A stay is an entry paired with the same person's next exit at the same venue (any kiosk of the venue):
- an entry with no exit within `max_stay` lasts `default_stay` (flag `end_inferred`);
- an exit with no entry before it started `default_stay` earlier (flag `start_inferred`);
- two entries in a row: the first stay ends at the second entry at the latest.
Two stays overlap with margin m when a.start < b.end + m and b.start < a.end + m.
All times are the server-corrected times. Every venue query reads one venue (one Citus shard).

A personal QR records the person's opaque id (`persons.id`) as the event's `id_number`, not their ID number: a
person is looked up by their ID number N and every person id staff verified for N, and a contact who showed a
personal QR is reported with the ID number of that person (its `person_id` alongside, `id_number_verified`
false when the number was only typed on the public page). Visits made with a person id that merely *claims* N
are never merged into N's own: they are listed apart (`unverified_visits`) with the name that was declared.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from server.models import events, persons, venues

DEFAULT_STAY = timedelta(hours=2)
DEFAULT_MARGIN = timedelta(minutes=15)
MAX_STAY = timedelta(hours=12)  # an exit later than this after an entry is not that entry's exit
MAX_WINDOW = timedelta(days=60)


@dataclass(frozen=True)
class TraceSettings:
    default_stay: timedelta = DEFAULT_STAY
    margin: timedelta = DEFAULT_MARGIN
    max_stay: timedelta = MAX_STAY


@dataclass(frozen=True)
class Scan:
    """One event as tracing needs it."""

    person: str  # pairing key: the kiosk's person_key, else the ID number
    id_number: str
    full_name: str
    date_of_birth: Any
    direction: str
    time: datetime
    credential: str
    phone: str = ""  # an assisted entry's phone number (the guard typed it; events.details)


@dataclass
class Stay:
    venue_id: int
    person: str
    id_number: str
    full_name: str
    date_of_birth: Any
    credential: str
    start: datetime
    end: datetime
    start_inferred: bool = False
    end_inferred: bool = False
    contacts: list[tuple[Stay, timedelta]] = field(default_factory=list)
    person_id: str | None = None  # set when the stay was recorded with a personal QR (id_number is then the real one)
    id_verified: bool = True  # false: the id_number is a claim typed on the public page (server.persons)
    id_status: str | None = None  # the person's claim status, for a personal-QR stay
    phone: str = ""  # from the assisted entry, or the declared person (personal QR)

    def overlaps(self, other: Stay, margin: timedelta) -> bool:
        return self.start < other.end + margin and other.start < self.end + margin

    def overlap_with(self, other: Stay) -> timedelta:
        """Time really shared (0 when they only meet within the margin)."""
        return max(timedelta(0), min(self.end, other.end) - max(self.start, other.start))


def pair_stays(venue_id: int, scans: Iterable[Scan], settings: TraceSettings) -> list[Stay]:
    """Pair one venue's scans (any persons, any order) into stays."""
    by_person: dict[str, list[Scan]] = defaultdict(list)
    for scan in scans:
        by_person[scan.person].append(scan)
    stays: list[Stay] = []
    for person_scans in by_person.values():
        stays.extend(_pair_one(venue_id, sorted(person_scans, key=lambda s: s.time), settings))
    return stays


def _pair_one(venue_id: int, scans: Sequence[Scan], settings: TraceSettings) -> list[Stay]:
    stays: list[Stay] = []
    open_entry: Scan | None = None

    def stay(scan: Scan, start: datetime, end: datetime, start_inferred: bool, end_inferred: bool) -> Stay:
        return Stay(
            venue_id,
            scan.person,
            scan.id_number,
            scan.full_name,
            scan.date_of_birth,
            scan.credential,
            start,
            end,
            start_inferred,
            end_inferred,
            phone=scan.phone,
        )

    def close_open(limit: datetime | None) -> None:
        assert open_entry is not None
        end = open_entry.time + settings.default_stay
        stays.append(stay(open_entry, open_entry.time, min(end, limit) if limit else end, False, True))

    for scan in scans:
        if scan.direction == "entry":
            if open_entry is not None:
                close_open(scan.time)
            open_entry = scan
        elif open_entry is not None and scan.time - open_entry.time <= settings.max_stay:
            stays.append(stay(open_entry, open_entry.time, scan.time, False, False))
            open_entry = None
        else:
            if open_entry is not None:
                close_open(None)
                open_entry = None
            stays.append(stay(scan, scan.time - settings.default_stay, scan.time, True, False))
    if open_entry is not None:
        close_open(None)
    return stays


def _scans(conn: Connection, where: Sequence[Any]) -> list[tuple[int, Scan]]:
    query = select(
        events.c.venue_id,
        events.c.person_key,
        events.c.id_number,
        events.c.full_name,
        events.c.date_of_birth,
        events.c.direction,
        events.c.corrected_time,
        events.c.credential,
        events.c.details,
    ).where(*where)
    return [
        (
            row.venue_id,
            Scan(
                row.person_key or row.id_number,
                row.id_number,
                row.full_name,
                row.date_of_birth,
                row.direction,
                row.corrected_time,
                row.credential,
                typed_phone(row.credential, row.details),
            ),
        )
        for row in conn.execute(query)
    ]


def typed_phone(credential: str, details: str) -> str:
    """The phone number a guard typed for an assisted entry (kept in the event's details), else ""."""
    if credential != "manual" or '"phone"' not in details:
        return ""
    try:
        phone = json.loads(details).get("phone", "")
    except (ValueError, AttributeError):
        return ""
    return phone if isinstance(phone, str) else ""


def identities(conn: Connection, id_number: str) -> set[str]:
    """What the events of the person with this ID number carry as `id_number`: the number itself and every
    person id (personal QR) staff verified for it."""
    ids = {id_number}
    query = select(persons.c.id).where(persons.c.id_number == id_number, persons.c.id_status == "verified")
    ids.update(conn.scalars(query))
    return ids


def claims(conn: Connection, id_number: str) -> dict[str, Any]:
    """Person ids that only claim this number (self-declared, or rejected by staff): id -> person row."""
    query = select(persons.c.id, persons.c.full_name, persons.c.id_status, persons.c.date_of_birth).where(
        persons.c.id_number == id_number, persons.c.id_status != "verified"
    )
    return {row.id: row for row in conn.execute(query)}


def unverified_visits(
    conn: Connection, id_number: str, start: datetime, end: datetime, settings: TraceSettings = TraceSettings()
) -> list[Stay]:
    """Stays recorded with a personal QR whose person only claims `id_number`: one person id at a time, each
    labelled with the declared name and the claim's status, with their contacts."""
    claimed = claims(conn, id_number)
    if not claimed:
        return []
    reach = max(settings.max_stay, settings.default_stay)
    scans = _scans(
        conn,
        [
            events.c.id_number.in_(sorted(claimed)),
            events.c.corrected_time >= start - reach,
            events.c.corrected_time < end + reach,
        ],
    )
    by_venue: dict[int, list[Scan]] = defaultdict(list)
    for venue_id, scan in scans:
        by_venue[venue_id].append(Scan(scan.id_number, *_tail(scan)))  # paired per person id
    visits = [
        s
        for venue_id, venue_scans in by_venue.items()
        for s in pair_stays(venue_id, venue_scans, settings)
        if s.start < end and s.end > start
    ]
    excluded = identities(conn, id_number) | set(claimed)
    for visit in visits:
        person = claimed[visit.id_number]
        visit.person_id, visit.id_number, visit.full_name = visit.id_number, id_number, person.full_name
        visit.date_of_birth = visit.date_of_birth or person.date_of_birth
        visit.id_verified, visit.id_status = False, person.id_status
        _attach_contacts(conn, visit, excluded, settings)
    _resolve_person_ids(conn, [contact for visit in visits for contact, _ in visit.contacts])
    return sorted(visits, key=lambda s: (s.start, s.venue_id))


def trace(
    conn: Connection, id_number: str, start: datetime, end: datetime, settings: TraceSettings = TraceSettings()
) -> list[Stay]:
    """The person's stays overlapping [start, end), each with its contacts (stay, time shared)."""
    reach = max(settings.max_stay, settings.default_stay)
    ids = identities(conn, id_number)
    own = _scans(
        conn,
        [
            events.c.id_number.in_(sorted(ids)),
            events.c.corrected_time >= start - reach,
            events.c.corrected_time < end + reach,
        ],
    )
    by_venue: dict[int, list[Scan]] = defaultdict(list)
    for venue_id, scan in own:
        # Pair the subject by ID number: their person_key differs between the credentials they showed.
        by_venue[venue_id].append(Scan(id_number, id_number, *_tail(scan)[1:]))
    visits = [
        s
        for venue_id, scans in by_venue.items()
        for s in pair_stays(venue_id, scans, settings)
        if s.start < end and s.end > start
    ]
    for visit in visits:
        _attach_contacts(conn, visit, ids, settings)
    _resolve_person_ids(conn, [contact for visit in visits for contact, _ in visit.contacts])
    return sorted(visits, key=lambda s: (s.start, s.venue_id))


def venue_presence(
    conn: Connection, venue_id: int, start: datetime, end: datetime, settings: TraceSettings = TraceSettings()
) -> list[Stay]:
    """Everyone whose stay at the venue overlapped [start, end), by arrival ("everyone at X from 14:00 to 16:00")."""
    reach = max(settings.max_stay, settings.default_stay)
    scans = _scans(
        conn,
        [
            events.c.venue_id == venue_id,
            events.c.corrected_time >= start - reach,
            events.c.corrected_time < end + reach,
        ],
    )
    stays = [s for s in pair_stays(venue_id, (scan for _, scan in scans), settings) if s.start < end and s.end > start]
    _resolve_person_ids(conn, stays)
    return sorted(stays, key=lambda s: (s.start, s.id_number))


def _tail(scan: Scan) -> tuple[Any, ...]:
    return (scan.id_number, scan.full_name, scan.date_of_birth, scan.direction, scan.time, scan.credential, scan.phone)


def _attach_contacts(conn: Connection, visit: Stay, ids: set[str], settings: TraceSettings) -> None:
    reach = max(settings.max_stay, settings.default_stay)
    scans = _scans(
        conn,
        [
            events.c.venue_id == visit.venue_id,
            events.c.corrected_time >= visit.start - settings.margin - reach,
            events.c.corrected_time < visit.end + settings.margin + reach,
            events.c.id_number.not_in(sorted(ids)),
        ],
    )
    for other in pair_stays(visit.venue_id, (scan for _, scan in scans), settings):
        if visit.overlaps(other, settings.margin):
            visit.contacts.append((other, visit.overlap_with(other)))
    visit.contacts.sort(key=lambda pair: (pair[0].start, pair[0].id_number))


def _resolve_person_ids(conn: Connection, stays: list[Stay]) -> None:
    """Contacts who showed a personal QR: their real ID number (and date of birth) from `persons`."""
    wanted = sorted({stay.id_number for stay in stays if stay.credential == "personal"})
    found: dict[str, Any] = {}
    for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
        query = select(
            persons.c.id, persons.c.id_number, persons.c.date_of_birth, persons.c.id_status, persons.c.phone
        ).where(persons.c.id.in_(chunk))
        found.update({row.id: row for row in conn.execute(query)})
    for stay in stays:
        person = found.get(stay.id_number) if stay.credential == "personal" else None
        if person is None:
            continue
        stay.person_id = stay.id_number
        stay.id_number = person.id_number or ""  # a person without an ID number (a child): still the person id below
        stay.date_of_birth = stay.date_of_birth or person.date_of_birth
        stay.id_verified, stay.id_status = person.id_status == "verified", person.id_status
        stay.phone = stay.phone or person.phone or ""


def venue_names(conn: Connection, venue_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(venue_ids))
    if not ids:
        return {}
    return {row.id: row.name for row in conn.execute(select(venues.c.id, venues.c.name).where(venues.c.id.in_(ids)))}


# --- output ----------------------------------------------------------------------------------------------------------


def _stay_json(stay: Stay) -> dict[str, Any]:
    return {
        "id_number": stay.id_number,
        "person_id": stay.person_id,
        "full_name": stay.full_name,
        "date_of_birth": stay.date_of_birth.isoformat() if stay.date_of_birth else None,
        "credential": stay.credential,
        "start": stay.start.isoformat(),
        "end": stay.end.isoformat(),
        "start_inferred": stay.start_inferred,
        "end_inferred": stay.end_inferred,
        "id_number_verified": stay.id_verified,
        "phone": stay.phone or None,
    }


def _visit_json(visit: Stay, names: dict[int, str]) -> dict[str, Any]:
    return {
        "venue_id": visit.venue_id,
        "venue_name": names.get(visit.venue_id, ""),
        **_stay_json(visit),
        "contacts": [
            {**_stay_json(c), "overlap_minutes": round(shared.total_seconds() / 60, 1)} for c, shared in visit.contacts
        ],
    }


def trace_json(
    conn: Connection,
    id_number: str,
    start: datetime,
    end: datetime,
    settings: TraceSettings,
    visits: list[Stay],
    unverified: Sequence[Stay] = (),
) -> dict[str, Any]:
    """The report. `visits`: the person's own (their card, or a personal QR staff verified); `unverified`:
    visits with a personal QR that only claims the number, each with `declared_name` and `id_status`."""
    names = venue_names(conn, (v.venue_id for v in (*visits, *unverified)))
    return {
        "id_number": id_number,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "margin_minutes": settings.margin.total_seconds() / 60,
        "default_stay_minutes": settings.default_stay.total_seconds() / 60,
        "visits": [_visit_json(v, names) for v in visits],
        "contact_count": len({c.id_number or c.person_id for v in visits for c, _ in v.contacts}),
        "unverified_visits": [
            {**_visit_json(v, names), "unverified": True, "declared_name": v.full_name, "id_status": v.id_status}
            for v in unverified
        ],
    }


TRACE_CSV_HEADER = (
    "venue_id",
    "venue_name",
    "visit_start",
    "visit_end",
    "visit_end_inferred",
    "contact_id_number",
    "contact_person_id",
    "contact_full_name",
    "contact_date_of_birth",
    "contact_credential",
    "contact_start",
    "contact_end",
    "contact_start_inferred",
    "contact_end_inferred",
    "overlap_minutes",
    "visit_id_verified",
    "contact_phone",
)


def trace_csv_rows(report: dict[str, Any]) -> list[list[Any]]:
    """One row per (visit, contact); a visit without contacts still gets a row (contact cells empty)."""
    rows: list[list[Any]] = []
    for visit in [*report["visits"], *report.get("unverified_visits", [])]:
        head = [visit["venue_id"], visit["venue_name"], visit["start"], visit["end"], visit["end_inferred"]]
        verified = not visit.get("unverified", False)
        if not visit["contacts"]:
            rows.append(head + [""] * 10 + [verified, ""])
        for c in visit["contacts"]:
            rows.append(
                head
                + [
                    c["id_number"],
                    c["person_id"] or "",
                    c["full_name"],
                    c["date_of_birth"],
                    c["credential"],
                    c["start"],
                    c["end"],
                    c["start_inferred"],
                    c["end_inferred"],
                    c["overlap_minutes"],
                    verified,
                    c.get("phone") or "",
                ]
            )
    return rows
