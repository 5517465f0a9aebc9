"""Conversions between `kiosk.events` objects and the row values kept in SQLite.

Times are kept as integer microseconds since the Unix epoch, UTC: compact, exactly ordered, cheap to index."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from kiosk.events import Direction, NewEvent, StoredEvent

from .errors import StoreError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)

# The column order of every event query (see queries.EVENT_COLUMNS); row_to_event relies on it.
EVENT_FIELDS = (
    "seq",
    "uuid",
    "direction",
    "credential",
    "person_key",
    "id_number",
    "full_name",
    "date_of_birth",
    "wall_time_us",
    "monotonic_ns",
    "source",
    "flags",
    "details",
)


def to_us(moment: datetime, what: str = "time") -> int:
    """An aware datetime as integer UTC microseconds; a naive one is refused (its zone would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StoreError(f"{what} must be timezone-aware (got a naive datetime)")
    return (moment - _EPOCH) // _ONE_US


def from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def fold_text(text: str) -> str:
    """Lower-case, diacritics removed ("Nguyễn Đức" -> "nguyen duc"): what name search compares."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).casefold()


def _dump_json(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"event {what} are not JSON-serialisable: {exc}") from None


def event_to_row(event: NewEvent) -> dict[str, Any]:
    """The `events` row for a new event (without `seq`); validates what SQLite would not."""
    if not isinstance(event.direction, Direction):
        try:
            Direction(event.direction)
        except ValueError:
            raise StoreError(f"unknown direction {event.direction!r}") from None
    if event.date_of_birth is not None and not isinstance(event.date_of_birth, date):
        raise StoreError("date_of_birth must be a date or None")
    dob = event.date_of_birth
    if isinstance(dob, datetime):  # a datetime is a date too; keep only its date part
        dob = dob.date()
    return {
        "uuid": str(event.uuid),
        "direction": str(Direction(event.direction).value),
        "credential": event.credential,
        "person_key": event.person_key,
        "id_number": event.id_number,
        "full_name": event.full_name,
        "date_of_birth": dob.isoformat() if dob is not None else None,
        "wall_time_us": to_us(event.wall_time, "wall_time"),
        "monotonic_ns": int(event.monotonic_ns),
        "source": event.source,
        "flags": _dump_json(list(event.flags), "flags"),
        "details": _dump_json(dict(event.details), "details"),
    }


_DIRECTIONS = {d.value: d for d in Direction}


def _load_json(text: str, empty: Any) -> Any:
    # Most events carry no flags or details: skip the JSON parser for the empty forms.
    return empty if text in ("[]", "{}") else json.loads(text)


def _fast_constructor() -> Callable[[dict[str, Any]], StoredEvent] | None:
    """Build StoredEvents without the frozen dataclass __init__ (14 guarded setattr calls, ~2 µs each event).

    Only valid while StoredEvent is a plain dataclass: no __slots__, no __post_init__, and every field given.
    Otherwise None, and the normal constructor is used (tests/test_store.py compares the two)."""
    if hasattr(StoredEvent, "__slots__") or hasattr(StoredEvent, "__post_init__"):
        return None
    if {f.name for f in dataclasses.fields(StoredEvent)} != set(_ROW_KEYS):
        return None
    new = object.__new__

    def build(values: dict[str, Any]) -> StoredEvent:
        event = new(StoredEvent)
        event.__dict__.update(values)
        return event

    return build


# The StoredEvent fields, in EVENT_FIELDS order (the time decoded from its column) plus the outbox state.
_ROW_KEYS = (*("wall_time" if name == "wall_time_us" else name for name in EVENT_FIELDS), "outbox_state")
_FAST_BUILD = _fast_constructor()


def _event_values(row: Sequence[Any], outbox_state: str) -> dict[str, Any]:
    seq, uuid, direction, credential, person_key, id_number, full_name, dob, wall_us, mono, source, flags, details = (
        row[:13]
    )
    return {
        "seq": seq,
        "uuid": uuid,
        "direction": _DIRECTIONS[direction],
        "credential": credential,
        "person_key": person_key,
        "id_number": id_number,
        "full_name": full_name,
        "date_of_birth": date.fromisoformat(dob) if dob else None,
        "wall_time": _EPOCH + timedelta(microseconds=wall_us),
        "monotonic_ns": mono,
        "source": source,
        "flags": tuple(_load_json(flags, ())),
        "details": _load_json(details, None) or {},
        "outbox_state": outbox_state,
    }


def row_to_event(row: Sequence[Any], outbox_state: str, *, fast: bool = True) -> StoredEvent:
    """A StoredEvent from a row in EVENT_FIELDS order (hot path: the roll-call and the sync batches)."""
    values = _event_values(row, outbox_state)
    if fast and _FAST_BUILD is not None:
        return _FAST_BUILD(values)
    return StoredEvent(**values)


def stored_from_new(event: NewEvent, row: Mapping[str, Any], seq: int) -> StoredEvent:
    """What record() returns: the caller's event, normalised to UTC, with its seq."""
    return StoredEvent(
        direction=Direction(row["direction"]),
        credential=event.credential,
        person_key=event.person_key,
        id_number=event.id_number,
        full_name=event.full_name,
        date_of_birth=date.fromisoformat(row["date_of_birth"]) if row["date_of_birth"] else None,
        wall_time=from_us(row["wall_time_us"]),
        monotonic_ns=row["monotonic_ns"],
        source=event.source,
        flags=tuple(event.flags),
        details=json.loads(row["details"]),
        uuid=row["uuid"],
        seq=seq,
        outbox_state="pending",
    )
