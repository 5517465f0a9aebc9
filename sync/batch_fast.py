"""The fast path of `sync.protocol.decode_batch` for a batch that is wholly well formed (the normal case).

The per-event parser (`protocol.event_from_json`) checks each field of each event with a few Python calls: ~9 µs
an event, most of the server's CPU per batch. Here each check runs once over a whole column of the batch (every
event's `full_name`, say) with C-level builtins: one `map(type, ...)`, one `max(map(len, ...))`, one regex
search over the joined values. The checks are the per-event ones, exactly: this path answers only "every event
passes", and anything else (a wrong type, a control character, a bad time, a claimed venue) returns None, and the
caller parses event by event, which says which event and why. So a malformed batch costs both, a good one ~3 µs
an event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from kiosk.events import Direction, NewEvent

# Every character the per-event check refuses in a text field: Unicode category Cc (exactly U+0000-U+001F and
# U+007F-U+009F, a closed set) and the bidirectional overrides and isolates (they reorder what a spreadsheet or a screen shows). For an ASCII value,
# `str.isprintable()` refuses the same characters (Cc is all of ASCII's non-printables).
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UUIDS = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:\n[0-9a-f]{8}-[0-9a-f]{4}-"
    r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})*"
)
_DIRECTIONS = {"entry": Direction.ENTRY, "exit": Direction.EXIT}
_TZINFO = attrgetter("tzinfo")
_YEAR = attrgetter("year")
_STR = {str}


def clean_text(values: list[Any], limit: int) -> bool:
    """Every value a str of at most `limit` characters without a refused character or an unpaired surrogate."""
    if not values:
        return True
    if not set(map(type, values)) <= _STR or max(map(len, values)) > limit:
        return False
    joined = "".join(values)  # Python never pairs two lone surrogates of adjacent values into one character
    if FORBIDDEN.search(joined) is not None:
        return False
    if joined.isascii():
        return True
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _times(values: list[Any]) -> list[datetime] | None:
    try:
        times = list(map(datetime.fromisoformat, values))
    except (TypeError, ValueError):
        return None
    if None in map(_TZINFO, times):
        return None
    years = list(map(_YEAR, times))  # years 1 and 9999 may not convert to UTC: the per-event check decides
    return times if min(years) > 1 and max(years) < 9999 else None


def _dates(values: list[Any]) -> list[date | None] | None:
    try:
        return [None if value is None else date.fromisoformat(value) for value in values]
    except (TypeError, ValueError):
        return None


def _flags(values: list[Any], limit: int) -> list[tuple[str, ...]] | None:
    out: list[tuple[str, ...]] = []
    for flags in values:
        if not flags:
            if flags is not None and type(flags) is not list:
                return None  # `0`, `""`, `{}`: the per-event check refuses what is not a list
            out.append(())
        elif type(flags) is not list or len(flags) > limit or not clean_text(flags, limit):
            return None
        else:
            out.append(tuple(flags))
    return out


def _details(values: list[Any]) -> list[dict[str, Any]] | None:
    out: list[dict[str, Any]] = []
    for details in values:
        if details is None:
            out.append({})
        elif type(details) is not dict:
            return None
        else:
            out.append(details or {})
    return out


def well_formed_events(raw: list[Any], limits: Mapping[str, int], flag_limit: int) -> list[NewEvent] | None:
    """The events of `raw` when every one of them is well formed and claims no venue; else None."""
    if not raw:
        return []
    if set(map(type, raw)) != {dict} or any("venue_id" in event for event in raw):
        return None  # a claimed venue (even null) and odd shapes: the per-event path

    def column(name: str) -> list[Any]:
        return [event.get(name) for event in raw]

    directions = [_DIRECTIONS.get(value) if type(value) is str else None for value in column("direction")]
    monotonic = column("monotonic_ns")
    if None in directions or not set(map(type, monotonic)) <= {int}:
        return None
    if min(monotonic) < -(2**63) or max(monotonic) >= 2**63:
        return None
    flags, details = _flags(column("flags"), flag_limit), _details(column("details"))
    uuids = column("uuid")
    if flags is None or details is None or not set(map(type, uuids)) <= _STR or set(map(len, uuids)) != {36}:
        return None
    if _UUIDS.fullmatch("\n".join(uuids)) is None:  # each exactly 36 long: the newlines sit between them
        return None
    texts = {name: column(name) for name in ("credential", "person_key", "id_number", "full_name")}
    if not all(clean_text(values, limits[name]) for name, values in texts.items()):
        return None
    sources = ["scan" if value is None else value for value in column("source")]
    births, walls = _dates(column("date_of_birth")), _times(column("wall_time"))
    if births is None or walls is None or not clean_text(sources, limits["source"]):
        return None
    return list(
        map(
            NewEvent,
            directions,
            texts["credential"],
            texts["person_key"],
            texts["id_number"],
            texts["full_name"],
            births,
            walls,
            monotonic,
            sources,
            flags,
            details,
            uuids,
        )
    )
