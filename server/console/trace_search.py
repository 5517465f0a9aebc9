"""The console's trace: find the person (by ID number, phone, or name and birth date) or the venue and window,
then their visits and co-visitors (server.tracing), optionally the second degree, as rows for pages and exports.

How sure an identity is, from the credential: a document the kiosk read (chip ID card, PC-Covid, EU DCC); a
personal QR of a person staff verified; one that only claims a number (self-declared); an assisted entry a
guard typed (self-declared); a claim staff rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from server.models import events, persons
from server.persons import same_name
from server.tracing import (
    MAX_WINDOW,
    Stay,
    TraceSettings,
    trace,
    typed_phone,
    unverified_visits,
    venue_names,
    venue_presence,
)

MODES = ("id_number", "phone", "name", "venue")
DOCUMENT_CREDENTIALS = frozenset({"cccd", "pccovid", "dcc"})
DEFAULT_WINDOW = timedelta(days=14)  # the incubation period: what a health officer asks for first
# The default window ends a day ahead: a kiosk that replays a recording, or runs a little fast, records visits
# slightly after the server's "now", and a trace up to "now" would miss them.
DEFAULT_AHEAD = timedelta(days=1)
MAX_SUBJECTS = 20  # a phone number or a name shared by more people than this is not a usable search
MAX_SECOND_DEGREE_SOURCES = 100  # first-degree contacts traced further (each is one more trace)
CERTAINTY = {  # key -> (vi, en), most sure first
    "document": ("Giấy tờ đã quét", "Document scanned"),
    "verified": ("Nhân viên đã xác minh", "Verified by staff"),
    "declared": ("Tự khai báo", "Self-declared"),
    "typed": ("Nhân viên nhập tay (tự khai)", "Typed by a guard (self-declared)"),
    "rejected": ("Khai báo sai (đã bác bỏ)", "Rejected claim"),
    "unknown": ("Không rõ", "Unknown"),
}


class SearchError(ValueError):
    """A trace form that cannot be run: a message in both languages."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi, self.en = vi, en


@dataclass(frozen=True)
class TraceQuery:
    mode: str
    start: datetime  # aware UTC
    end: datetime
    id_number: str = ""
    phone: str = ""
    full_name: str = ""
    date_of_birth: date | None = None
    venue_id: int | None = None
    second_degree: bool = False

    def audit_json(self) -> dict[str, Any]:
        """What was asked, for the audit log."""
        asked: dict[str, Any] = {"mode": self.mode, "from": self.start.isoformat(), "to": self.end.isoformat()}
        fields = {
            "id_number": self.id_number,
            "phone": self.phone,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else "",
            "venue_id": self.venue_id,
        }
        asked.update({k: v for k, v in fields.items() if v})
        if self.second_degree:
            asked["second_degree"] = True
        return asked


@dataclass
class PersonRow:
    """A person as the results show them: one co-visitor's stay, or one stay at the venue."""

    full_name: str
    id_number: str
    person_id: str
    phone: str
    date_of_birth: date | None
    credential: str
    certainty: str
    start: datetime
    end: datetime
    start_inferred: bool
    end_inferred: bool
    shared_minutes: float

    @property
    def key(self) -> str:
        """Who this is: the person id of a claim, else the ID number (what tracing them further looks up);
        a guard's typed entry without a number: "~" and the name (counted, not traced further)."""
        if self.person_id and self.certainty != "verified":
            return self.person_id
        return self.id_number or self.person_id or f"~{self.full_name}"


@dataclass
class VisitRow:
    venue_id: int
    venue_name: str
    subject: PersonRow
    contacts: list[PersonRow] = field(default_factory=list)
    unverified: bool = False  # a personal QR that only claims the number traced


@dataclass
class SecondDegreeRow:
    via: PersonRow  # the first-degree contact
    venue_name: str
    person: PersonRow


@dataclass
class TraceResult:
    query: TraceQuery
    visits: list[VisitRow]
    second_degree: list[SecondDegreeRow] | None = None
    second_degree_capped: bool = False
    subjects_capped: bool = False

    @property
    def people_count(self) -> int:
        """How many distinct people the result shows (for the audit log)."""
        subjects = [] if self.query.mode == "venue" else [visit.subject for visit in self.visits]  # a venue: nobody
        keys = {row.key for row in subjects} | {row.key for visit in self.visits for row in visit.contacts}
        keys.update(row.person.key for row in self.second_degree or ())
        return len(keys - {"~"})


def certainty(stay: Stay) -> str:
    if stay.credential == "personal":
        return {"verified": "verified", "rejected": "rejected"}.get(stay.id_status or "", "declared")
    if stay.credential in DOCUMENT_CREDENTIALS:
        return "document"
    return "typed" if stay.credential == "manual" else "unknown"


def person_row(stay: Stay, shared: timedelta) -> PersonRow:
    return PersonRow(
        full_name=stay.full_name,
        id_number=stay.id_number,
        person_id=stay.person_id or "",
        phone=stay.phone,
        date_of_birth=stay.date_of_birth,
        credential=stay.credential,
        certainty=certainty(stay),
        start=stay.start,
        end=stay.end,
        start_inferred=stay.start_inferred,
        end_inferred=stay.end_inferred,
        shared_minutes=round(shared.total_seconds() / 60, 1),
    )


# --- the form -------------------------------------------------------------------------------------------------------


def normalise_phone(text: str) -> str:
    return re.sub(r"[\s.()-]", "", text)


def _local(text: str, zone: ZoneInfo, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SearchError(f"{what}: thời điểm không hợp lệ", f"{what}: not a date and time") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def parse_window(form: dict[str, str], zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """`from` / `to` as typed (datetime-local: the server's zone); default: the last 14 days (and the next)."""
    end = _local(form["to"], zone, "to") if form.get("to", "").strip() else now + DEFAULT_AHEAD
    start = _local(form["from"], zone, "from") if form.get("from", "").strip() else now - DEFAULT_WINDOW
    if end <= start:
        raise SearchError("Thời điểm kết thúc phải sau thời điểm bắt đầu", "'to' must be after 'from'")
    if end - start > MAX_WINDOW:
        raise SearchError(f"Khoảng thời gian tối đa {MAX_WINDOW.days} ngày", f"at most {MAX_WINDOW.days} days")
    if start.year < 2020 or end.year > 2100:
        raise SearchError("Thời gian phải trong khoảng 2020-2100", "times must lie between 2020 and 2100")
    return start, end


def parse_query(form: dict[str, str], zone: ZoneInfo, now: datetime) -> TraceQuery:
    """The trace form (fields id_number, phone, full_name + date_of_birth, venue_id; from, to; second_degree)
    as a query; the mode is the first filled: an ID number wins over a phone, a phone over a name."""
    start, end = parse_window(form, zone, now)
    second = form.get("second_degree") in ("1", "on", "yes")
    id_number = form.get("id_number", "").strip()
    phone = normalise_phone(form.get("phone", ""))
    name = " ".join(form.get("full_name", "").split())
    venue = form.get("venue_id", "").strip()
    if "\x00" in id_number + phone + name or max(len(id_number), len(phone), len(name)) > 100:
        raise SearchError("Giá trị tìm kiếm không hợp lệ", "not a usable search value")
    if id_number:
        return TraceQuery("id_number", start, end, id_number=id_number, second_degree=second)
    if phone:
        if not re.fullmatch(r"\+?\d{6,15}", phone):
            raise SearchError("Số điện thoại: 6 đến 15 chữ số", "phone: 6 to 15 digits")
        return TraceQuery("phone", start, end, phone=phone, second_degree=second)
    if name:
        try:
            born = date.fromisoformat(form.get("date_of_birth", "").strip())
        except ValueError:
            raise SearchError("Tìm theo tên cần cả ngày sinh", "a search by name needs the date of birth") from None
        return TraceQuery("name", start, end, full_name=name, date_of_birth=born, second_degree=second)
    if venue:
        if not venue.isdigit() or not 0 < int(venue) < 2**31:
            raise SearchError("Chọn một địa điểm", "choose a venue")
        if not form.get("from", "").strip():
            raise SearchError("Tìm theo địa điểm cần thời điểm bắt đầu", "a venue search needs 'from'")
        return TraceQuery("venue", start, end, venue_id=int(venue))
    raise SearchError(
        "Nhập số giấy tờ, số điện thoại, họ tên và ngày sinh, hoặc chọn địa điểm",
        "enter an ID number, a phone number, a name and birth date, or choose a venue",
    )


# --- running it -----------------------------------------------------------------------------------------------------


def subject_keys(conn: Connection, query: TraceQuery) -> list[str]:
    """What the person's events carry as `id_number` (their ID number, or a claim's person id)."""
    if query.mode == "id_number":
        return [query.id_number]
    if query.mode == "phone":
        rows = conn.execute(
            select(persons.c.id, persons.c.id_number, persons.c.id_status).where(persons.c.phone == query.phone)
        )
        keys = [_person_key(row) for row in rows]
        keys += _typed_entries(conn, query, lambda row: normalise_phone(_details_phone(row.details)) == query.phone)
    else:
        rows = conn.execute(
            select(persons.c.id, persons.c.id_number, persons.c.id_status, persons.c.full_name).where(
                persons.c.date_of_birth == query.date_of_birth
            )
        )
        keys = [_person_key(row) for row in rows if same_name(row.full_name, query.full_name)]
        keys += _events_by_name(conn, query)
    return list(dict.fromkeys(key for key in keys if key))


def _person_key(row: Any) -> str:
    return str(row.id_number if row.id_number and row.id_status == "verified" else row.id)


def _details_phone(details: str) -> str:
    return typed_phone("manual", details)


def _typed_entries(conn: Connection, query: TraceQuery, matches: Any) -> list[str]:
    """ID numbers of assisted entries in the window whose typed phone matches."""
    rows = conn.execute(
        select(events.c.id_number, events.c.details).where(
            events.c.credential == "manual",
            events.c.corrected_time >= query.start,
            events.c.corrected_time < query.end,
            events.c.details.contains(query.phone[-6:]),
        )
    )
    return [row.id_number for row in rows if row.id_number and matches(row)]


def _events_by_name(conn: Connection, query: TraceQuery) -> list[str]:
    rows = conn.execute(
        select(events.c.id_number, events.c.full_name)
        .where(
            events.c.date_of_birth == query.date_of_birth,
            events.c.corrected_time >= query.start,
            events.c.corrected_time < query.end,
        )
        .distinct()
    )
    return [row.id_number for row in rows if row.id_number and same_name(row.full_name, query.full_name)]


def run_query(conn: Connection, query: TraceQuery, settings: TraceSettings) -> TraceResult:
    if query.mode == "venue":
        assert query.venue_id is not None
        return _venue_result(conn, query, settings)
    keys = subject_keys(conn, query)
    capped = len(keys) > MAX_SUBJECTS
    stays: list[tuple[Stay, bool]] = []
    for key in keys[:MAX_SUBJECTS]:
        stays += [(visit, False) for visit in trace(conn, key, query.start, query.end, settings)]
        if key.isdigit():
            stays += [(visit, True) for visit in unverified_visits(conn, key, query.start, query.end, settings)]
    stays.sort(key=lambda pair: (pair[0].start, pair[0].venue_id))
    names = venue_names(conn, (stay.venue_id for stay, _ in stays))
    visits = [
        VisitRow(
            stay.venue_id,
            names.get(stay.venue_id, ""),
            _subject_row(stay, unverified),
            [person_row(contact, shared) for contact, shared in stay.contacts],
            unverified,
        )
        for stay, unverified in stays
    ]
    phones = _declared_phones(conn, keys[:MAX_SUBJECTS])
    for visit in visits:
        visit.subject.phone = visit.subject.phone or phones.get(visit.subject.id_number, "")
    result = TraceResult(query, visits, subjects_capped=capped)
    if query.second_degree:
        _add_second_degree(conn, result, settings, set(keys))
    return result


def _declared_phones(conn: Connection, keys: list[str]) -> dict[str, str]:
    """The phone each traced person declared (by ID number or person id), a verified person's first."""
    if not keys:
        return {}
    rows = conn.execute(
        select(persons.c.id, persons.c.id_number, persons.c.phone, persons.c.id_status)
        .where((persons.c.id_number.in_(keys) | persons.c.id.in_(keys)) & persons.c.phone.is_not(None))
        .order_by(persons.c.created_at)
    )
    phones: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r.id_status != "verified"):
        key = row.id_number if row.id_number in keys else row.id
        phones.setdefault(key, row.phone)
    return phones


def _subject_row(stay: Stay, unverified: bool) -> PersonRow:
    """The traced person's own stay. Their personal-QR visits count as verified unless listed as a claim
    (tracing merges only the person ids staff verified for the number)."""
    row = person_row(stay, stay.end - stay.start)
    if stay.credential == "personal" and not unverified:
        row.certainty = "verified" if stay.id_number.isdigit() else "declared"
    return row


def _venue_result(conn: Connection, query: TraceQuery, settings: TraceSettings) -> TraceResult:
    assert query.venue_id is not None
    window = Stay(query.venue_id, "", "", "", None, "", query.start, query.end)
    rows = [
        person_row(stay, window.overlap_with(stay))
        for stay in venue_presence(conn, query.venue_id, query.start, query.end, settings)
    ]
    name = venue_names(conn, [query.venue_id]).get(query.venue_id, "")
    subject = PersonRow(name, "", "", "", None, "", "unknown", query.start, query.end, False, False, 0.0)
    return TraceResult(query, [VisitRow(query.venue_id, name, subject, rows)])


def _add_second_degree(conn: Connection, result: TraceResult, settings: TraceSettings, subjects: set[str]) -> None:
    """People who met a first-degree contact at any of the contact's visits in the window."""
    first = {row.key: row for visit in result.visits for row in visit.contacts if not row.key.startswith("~")}
    known = set(first) | subjects
    rows: list[SecondDegreeRow] = []
    sources = list(first.items())[:MAX_SECOND_DEGREE_SOURCES]
    for key, via in sources:
        visits = trace(conn, key, result.query.start, result.query.end, settings)
        names = venue_names(conn, (v.venue_id for v in visits))
        for visit in visits:
            for contact, shared in visit.contacts:
                row = person_row(contact, shared)
                if row.key not in known:
                    rows.append(SecondDegreeRow(via, names.get(visit.venue_id, ""), row))
    result.second_degree = rows
    result.second_degree_capped = len(first) > MAX_SECOND_DEGREE_SOURCES
