"""The kiosk <-> central server wire format, version 1 (shared by both ends).

Stdlib, `kiosk.events` and orjson: the kiosk imports this without FastAPI or SQLAlchemy.

Endpoints (all JSON, under `API_PREFIX`):
- POST `EVENTS_PATH`, `Authorization: Bearer <kiosk token>`, body from `encode_batch` (may be gzip with
  `Content-Encoding: gzip`, see `gzip_body`). 200 -> `decode_batch_result(body)`: one `EventResult` per event.
  "stored" and "duplicate" and "refused" are all final: the client marks the event acknowledged (a refused
  event is logged with its reason, so one poison event never blocks the queue). Only an event claiming another
  venue is refused; one dated before 2020 or > 24 h ahead (after clock correction) is stored, flagged
  `clock_suspect`. Every uuid must be canonical (lowercase, hyphenated, as `uuid4()` prints it): the answer
  carries the uuid exactly as sent. An event that is malformed (a text field or flag longer than
  `FIELD_LIMITS`, with a control character or an unpaired surrogate, a bad time...) but has a canonical uuid is
  refused alone with the reason, and the rest of the batch is stored. 401 no/wrong token, 413 too many events or
  body too large, 422 malformed envelope or an event without a usable uuid (nothing stored), 429/503 with
  Retry-After when overloaded. A batch may carry the kiosk's `status` (`sync.protocol_status`, optional); one
  with no events is a heartbeat.
- GET `CONFIG_PATH` -> `RemoteConfig`; GET `KEYS_PATH` -> `PublicKeyInfo`s; GET `REVOCATIONS_PATH` ->
  `Revocation`s; GET `TRUST_LIST_PATH` -> `TrustedCertificate`s. Each answer carries an `ETag`; send it back
  in `If-None-Match` and an unchanged answer is a bodiless 304.
- GET `TIME_PATH` -> `{"server_time": ...}` (no token needed).
- POST `ENROLL_PATH` `{"code": ...}` (no token) -> `EnrollResponse` (the token is shown once, keep it 0600);
  401 for an unknown, used or expired code.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from kiosk.events import Direction, NewEvent
from kiosk.vocabulary import SafetyLevel, words
from sync.batch_fast import FORBIDDEN, well_formed_events

PROTOCOL_VERSION = 1
API_PREFIX = "/api/v1"
EVENTS_PATH = f"{API_PREFIX}/events"
CONFIG_PATH = f"{API_PREFIX}/config"
KEYS_PATH = f"{API_PREFIX}/keys"
REVOCATIONS_PATH = f"{API_PREFIX}/revocations"
TRUST_LIST_PATH = f"{API_PREFIX}/trust-list"
TIME_PATH = f"{API_PREFIX}/time"
ENROLL_PATH = f"{API_PREFIX}/enroll"
TRACE_PATH = f"{API_PREFIX}/trace"

MAX_BATCH_EVENTS = 1000  # more -> 413; the client should send batches of <= 500
MAX_BODY_BYTES = 5 * 1024 * 1024  # after decompression; more -> 413
FUTURE_TOLERANCE = timedelta(hours=24)  # corrected wall_time later than server now + this -> stored, clock_suspect


SAFETY_LEVELS = words(SafetyLevel)


class ProtocolError(ValueError):
    """The message does not follow this protocol; the message says which field and why."""


class PayloadTooLarge(ProtocolError):
    """Too many events, or a body (once decompressed) over `MAX_BODY_BYTES`."""


class EventStatus:
    STORED = "stored"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


EVENT_STATUSES = frozenset({EventStatus.STORED, EventStatus.DUPLICATE, EventStatus.REFUSED})


# --- time -----------------------------------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with an explicit offset ("...+00:00"); refuses naive datetimes (they hide bugs)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: attach a timezone")
    return moment.astimezone(UTC).isoformat()


def parse_wire_time(text: Any, what: str = "time") -> datetime:
    """Parse an ISO 8601 timestamp that has an offset (or "Z") into an aware datetime."""
    if not isinstance(text, str) or not text:
        raise ProtocolError(f"{what}: expected an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ProtocolError(f"{what}: not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise ProtocolError(f"{what}: timestamp has no UTC offset")
    try:
        moment.astimezone(UTC)  # 0001-01-01T00:00+01:00 parses but has no UTC time: the database could not store it
    except OverflowError:
        raise ProtocolError(f"{what}: outside the years 1-9999 in UTC") from None
    return moment


def corrected_time(wall_time: datetime, kiosk_time: datetime, received_at: datetime) -> datetime:
    """The event's time on the server's clock: wall_time + (server time at receipt - kiosk time at send)."""
    return wall_time + (received_at - kiosk_time)


def clock_offset(kiosk_time: datetime, server_time: datetime) -> timedelta:
    """How far the kiosk's clock is behind the server's (positive: the kiosk is slow)."""
    return server_time - kiosk_time


# --- events -----------------------------------------------------------------------------------------------------


def event_to_json(event: NewEvent) -> dict[str, Any]:
    """One event as its JSON object (no venue: the server takes it from the kiosk's token)."""
    return {
        "uuid": event.uuid,
        "direction": str(event.direction),
        "credential": event.credential,
        "person_key": event.person_key,
        "id_number": event.id_number,
        "full_name": event.full_name,
        "date_of_birth": event.date_of_birth.isoformat() if event.date_of_birth else None,
        "wall_time": format_time(event.wall_time),
        "monotonic_ns": int(event.monotonic_ns),
        "source": event.source,
        "flags": list(event.flags),
        "details": dict(event.details),
    }


def _field(obj: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str, required: bool = True) -> Any:
    value = obj.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ProtocolError(f"{where}.{name}: missing or wrong type")
    return value


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _parse_uuid(value: Any, where: str) -> str:
    """Only the canonical form: the client matches answers to what it sent, so the server must never rewrite a
    uuid (an uppercase or braced one answered in canonical form would be resent forever)."""
    if not isinstance(value, str):
        raise ProtocolError(f"{where}.uuid: missing or not a string")
    if not _CANONICAL_UUID.fullmatch(value):
        raise ProtocolError(f"{where}.uuid: not a canonical UUID (lowercase hex, 8-4-4-4-12)")
    return value


def _parse_date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"{where}: expected YYYY-MM-DD or null")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ProtocolError(f"{where}: not a YYYY-MM-DD date") from None


_TEXT_LIMIT = 1000  # no legitimate name, key or id is longer; refuse rather than store a blob
# Longest accepted value per text field: the server's column sizes are these (server.models), so what
# passes here is stored whole, never truncated.
FIELD_LIMITS: Mapping[str, int] = {
    "credential": 20,
    "person_key": _TEXT_LIMIT,
    "id_number": _TEXT_LIMIT,
    "full_name": _TEXT_LIMIT,
    "source": 40,
}


FLAG_LIMIT = 100


def check_text(value: str, what: str, limit: int) -> str:
    """A text field as names are checked: at most `limit` characters, no control character (NUL, newline,
    tab...), no bidirectional control, no unpaired surrogate. ProtocolError names the field."""
    if len(value) > limit:
        raise ProtocolError(f"{what}: longer than {limit} characters")
    if value.isascii():
        if value.isprintable():
            return value
        raise ProtocolError(f"{what}: contains a control character")
    if not _is_utf8(value):
        raise ProtocolError(f"{what}: contains an unpaired surrogate")
    if FORBIDDEN.search(value) is not None:  # category Cc and the bidirectional controls (sync.batch_fast)
        raise ProtocolError(f"{what}: contains a control character")
    return value


def _text(obj: Mapping[str, Any], name: str, where: str) -> str:
    value = obj.get(name)
    if type(value) is not str:
        raise ProtocolError(f"{where}.{name}: missing or wrong type")
    return check_text(value, f"{where}.{name}", FIELD_LIMITS.get(name, _TEXT_LIMIT))


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def event_from_json(obj: Any, where: str = "event") -> NewEvent:
    """Parse one event object; raises ProtocolError naming the bad field."""
    if not isinstance(obj, Mapping):
        raise ProtocolError(f"{where}: expected an object")
    direction = _field(obj, "direction", str, where)
    if direction not in (Direction.ENTRY, Direction.EXIT):
        raise ProtocolError(f"{where}.direction: must be 'entry' or 'exit'")
    monotonic_ns = _field(obj, "monotonic_ns", int, where)
    if not -(2**63) <= monotonic_ns < 2**63:
        raise ProtocolError(f"{where}.monotonic_ns: out of 64-bit range")
    flags = _field(obj, "flags", list, where, required=False) or []
    if len(flags) > FLAG_LIMIT or not all(type(flag) is str for flag in flags):
        raise ProtocolError(f"{where}.flags: expected a list of at most {FLAG_LIMIT} strings")
    for index, flag in enumerate(flags):
        check_text(flag, f"{where}.flags[{index}]", FLAG_LIMIT)
    details = _field(obj, "details", dict, where, required=False) or {}
    return NewEvent(
        uuid=_parse_uuid(obj.get("uuid"), where),
        direction=Direction(direction),
        credential=_text(obj, "credential", where),
        person_key=_text(obj, "person_key", where),
        id_number=_text(obj, "id_number", where),
        full_name=_text(obj, "full_name", where),
        date_of_birth=_parse_date(obj.get("date_of_birth"), f"{where}.date_of_birth"),
        wall_time=parse_wire_time(obj.get("wall_time"), f"{where}.wall_time"),
        monotonic_ns=monotonic_ns,
        source=_text(obj, "source", where) if obj.get("source") is not None else "scan",
        flags=tuple(flags),
        details=details,
    )


# --- batches ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """A decoded POST /events body. `claimed_venue` maps uuid -> a `venue_id` an event carried (normally none)."""

    kiosk_time: datetime
    events: tuple[NewEvent, ...]
    claimed_venue: Mapping[str, str] = field(default_factory=dict)
    protocol: int = PROTOCOL_VERSION
    refused: Mapping[str, str] = field(default_factory=dict)  # uuid -> why, for malformed events (not in events)
    status: Mapping[str, Any] | None = None  # the kiosk's report, as sent (`sync.protocol_status` reads it)


def batch_to_json(
    events: Iterable[NewEvent], kiosk_time: datetime, status: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "protocol": PROTOCOL_VERSION,
        "kiosk_time": format_time(kiosk_time),
        "events": [event_to_json(event) for event in events],
    }
    if status is not None:
        body["status"] = dict(status)
    return body


def encode_batch(events: Iterable[NewEvent], kiosk_time: datetime, status: Mapping[str, Any] | None = None) -> bytes:
    """The POST /events body (UTF-8 JSON). `kiosk_time` is the kiosk's clock now, just before sending; `status`
    the kiosk's report (`sync.protocol_status.KioskStatus.to_json()`), optional."""
    body = batch_to_json(events, kiosk_time, status)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_batch(
    body: bytes | str | Mapping[str, Any], max_events: int = MAX_BATCH_EVENTS, *, refuse_bad_events: bool = False
) -> Batch:
    """Parse a POST /events body: PayloadTooLarge for too many events, ProtocolError for anything malformed.

    With `refuse_bad_events` (the server), a malformed event that has a canonical uuid does not sink the batch:
    it goes to `Batch.refused` with the reason, and the others are parsed as usual. An event without a usable
    uuid still raises: its answer could not name it."""
    obj = _load_json(body)
    if not isinstance(obj, Mapping):
        raise ProtocolError("batch: expected a JSON object")
    version = obj.get("protocol")
    if type(version) is not int or version != PROTOCOL_VERSION:  # `true == 1` is not a version
        raise ProtocolError(f"batch.protocol: this server speaks protocol {PROTOCOL_VERSION}")
    kiosk_time = parse_wire_time(obj.get("kiosk_time"), "batch.kiosk_time")
    raw_events = obj.get("events")
    if not isinstance(raw_events, list):
        raise ProtocolError("batch.events: expected a list")
    if len(raw_events) > max_events:
        raise PayloadTooLarge(f"batch.events: {len(raw_events)} events, at most {max_events} per batch")
    events = well_formed_events(raw_events, FIELD_LIMITS, FLAG_LIMIT)  # the whole batch at once, or None
    claimed: dict[str, str] = {}
    refused: dict[str, str] = {}
    if events is None:
        events, claimed, refused = _events_one_by_one(raw_events, refuse_bad_events)
    status = obj.get("status")
    return Batch(
        kiosk_time=kiosk_time,
        events=tuple(events),
        claimed_venue=claimed,
        refused=refused,
        status=status if isinstance(status, Mapping) else None,
    )


def _events_one_by_one(
    raw_events: list[Any], refuse_bad_events: bool
) -> tuple[list[NewEvent], dict[str, str], dict[str, str]]:
    """Each event parsed alone: the events, uuid -> claimed venue, uuid -> why refused (see decode_batch)."""
    events: list[NewEvent] = []
    claimed: dict[str, str] = {}
    refused: dict[str, str] = {}
    for index, raw in enumerate(raw_events):
        where = f"events[{index}]"
        try:
            event = event_from_json(raw, where)
        except ProtocolError as exc:
            if not refuse_bad_events or not isinstance(raw, Mapping):
                raise
            refused.setdefault(_parse_uuid(raw.get("uuid"), where), str(exc).removeprefix(f"{where}."))
            continue
        events.append(event)
        if raw.get("venue_id") is not None:
            claimed[event.uuid] = str(raw["venue_id"])
    return events, claimed, refused


def _load_json(body: bytes | str | Mapping[str, Any]) -> Any:
    if isinstance(body, Mapping):
        return body
    try:
        # orjson parses a batch of 500 events in a quarter of json's time (docs/benchmarks.md). It refuses what
        # json accepts (a lone surrogate escape, NaN, an integer past 64 bits): json then decides, as before, so
        # such an event is still refused alone, with its reason, and never sinks the batch.
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("body is not valid UTF-8 JSON") from None
    except RecursionError:
        raise ProtocolError("body is nested too deeply") from None


def gzip_body(body: bytes) -> bytes:
    """Compress a request body (send with `Content-Encoding: gzip`); level 5: most of the gain, little CPU."""
    return gzip.compress(body, compresslevel=5)


def gunzip_limited(body: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """Decompress gzip without ever holding more than `limit` bytes (a gzip bomb raises PayloadTooLarge)."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(body, limit + 1)
        if len(out) > limit or decompressor.unconsumed_tail:
            raise PayloadTooLarge(f"body larger than {limit} bytes once decompressed")
        out += decompressor.flush()
    except zlib.error:
        raise ProtocolError("body is not valid gzip") from None
    if len(out) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes once decompressed")
    if not decompressor.eof:
        raise ProtocolError("body is truncated gzip")
    return out


# --- answers to a batch ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventResult:
    uuid: str
    status: str  # EventStatus.*
    reason: str | None = None  # set for "refused"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"uuid": self.uuid, "status": self.status}
        if self.reason is not None:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class BatchResult:
    server_time: datetime
    results: tuple[EventResult, ...]
    protocol: int = PROTOCOL_VERSION

    @property
    def acknowledged(self) -> list[str]:
        """UUIDs the client may mark acknowledged: every final status (stored, duplicate, refused)."""
        return [result.uuid for result in self.results if result.status in EVENT_STATUSES]

    @property
    def refused(self) -> list[EventResult]:
        return [result for result in self.results if result.status == EventStatus.REFUSED]

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "server_time": format_time(self.server_time),
            "results": [result.to_json() for result in self.results],
        }


def encode_batch_result(result: BatchResult) -> bytes:
    answer = result.to_json()
    try:
        return orjson.dumps(answer)
    except orjson.JSONEncodeError:  # a reason quoting an unpaired surrogate: json escapes it
        return json.dumps(answer, separators=(",", ":")).encode()


def decode_batch_result(body: bytes | str | Mapping[str, Any]) -> BatchResult:
    """Parse the server's 200 answer to POST /events."""
    obj = _load_json(body)
    if not isinstance(obj, Mapping) or not isinstance(obj.get("results"), list):
        raise ProtocolError("batch result: expected an object with a results list")
    results = []
    for index, raw in enumerate(obj["results"]):
        where = f"results[{index}]"
        if not isinstance(raw, Mapping) or raw.get("status") not in EVENT_STATUSES:
            raise ProtocolError(f"{where}: expected uuid and a known status")
        results.append(
            EventResult(uuid=_field(raw, "uuid", str, where), status=raw["status"], reason=raw.get("reason"))
        )
    return BatchResult(
        server_time=parse_wire_time(obj.get("server_time"), "server_time"),
        results=tuple(results),
        protocol=int(obj.get("protocol", PROTOCOL_VERSION)),
    )
