"""Pull what the kiosk needs from its server (config, keys, revocations, trust list), with ETags, and cache it.

Each resource is kept in the store's key/value state as the JSON text the server sent, with its ETag and the
time the kiosk last confirmed it (a 304 confirms it too). So a kiosk that boots offline still verifies
signatures with what it had, and knows (and shows) how old that is: stale data must never look fresh.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.credentials import trust
from kiosk.credentials.base import TrustMaterial
from sync import clock, protocol, protocol_pull
from sync.clock import KeyValueStore, parse_server_time
from sync.transport import SyncError, Transport, http_error, one_line, utc_now

log = logging.getLogger(__name__)

# name -> path on the server; the names are also the cache keys and what `status()` reports ages for
RESOURCES: dict[str, str] = {
    "config": protocol.CONFIG_PATH,
    "keys": protocol.KEYS_PATH,
    "revocations": protocol.REVOCATIONS_PATH,
    "trust-list": protocol.TRUST_LIST_PATH,
}
_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "config": protocol_pull.RemoteConfig.from_json,
    "keys": protocol_pull.keys_from_json,
    "revocations": protocol_pull.revocations_from_json,
    "trust-list": protocol_pull.trust_list_from_json,
}


def _key(name: str, part: str) -> str:
    return f"pull.{name}.{part}"


@dataclass(frozen=True)
class PullResult:
    """What one pull did: per resource "updated", "unchanged" (304) or the error's one-line message."""

    outcomes: dict[str, str]
    errors: dict[str, SyncError]
    clock_offset_s: float | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def first_error(self) -> SyncError | None:
        return next(iter(self.errors.values()), None)


def cached(store: KeyValueStore, name: str) -> tuple[Any, datetime | None]:
    """The cached document for `name` (parsed JSON) and when it was last confirmed; (None, None) if never."""
    text = store.get_state(_key(name, "body"))
    fetched_at = parse_server_time(store.get_state(_key(name, "fetched_at")))
    if text is None:
        return None, None
    try:
        return json.loads(text), fetched_at
    except ValueError:
        return None, None  # a torn or foreign value: as good as never fetched


def fetched_at(store: KeyValueStore, name: str) -> datetime | None:
    """When `name` was last confirmed by the server (without parsing the document)."""
    return parse_server_time(store.get_state(_key(name, "fetched_at")))


def age_seconds(store: KeyValueStore, name: str, now: datetime | None = None) -> float | None:
    """How old the cached `name` is, in seconds; None if the kiosk never had it."""
    when = fetched_at(store, name)
    return None if when is None else max(0.0, ((now or utc_now()) - when).total_seconds())


def pull_one(store: KeyValueStore, transport: Transport, name: str) -> str | SyncError:
    """Fetch one resource with If-None-Match; cache it. Returns "updated", "unchanged" or the error."""
    etag = store.get_state(_key(name, "etag"))
    headers = {"If-None-Match": etag} if etag and store.get_state(_key(name, "body")) is not None else {}
    answer = transport.request("GET", RESOURCES[name], headers=headers)
    if isinstance(answer, SyncError):
        return answer
    if answer.status == 304:
        store.set_state(_key(name, "fetched_at"), answer.received_at.isoformat())
        return "unchanged"
    if answer.status != 200:
        return http_error(answer, f"pull {name}")
    try:
        document = answer.json()
        _VALIDATORS[name](document)  # never cache what the kiosk could not use later
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return SyncError("protocol", one_line(f"pull {name}: unusable answer ({type(exc).__name__})"))
    # body first, stamp last: a crash in between leaves an older stamp, never a fresh stamp on old data
    store.set_state(_key(name, "body"), json.dumps(document, ensure_ascii=False, separators=(",", ":")))
    store.set_state(_key(name, "etag"), answer.headers.get("ETag", ""))
    store.set_state(_key(name, "fetched_at"), answer.received_at.isoformat())
    return "updated"


def pull_all(store: KeyValueStore, transport: Transport, names: Iterable[str] = RESOURCES) -> PullResult:
    """Measure the clock, then pull every resource; one failing does not stop the others (a missing trust
    list must not block the config), but an unreachable server stops the round (no stacked timeouts)."""
    outcomes: dict[str, str] = {}
    errors: dict[str, SyncError] = {}
    measured = measure_clock(store, transport)
    if isinstance(measured, SyncError):
        errors["time"] = measured
        if measured.kind in ("unreachable", "timeout", "tls"):
            return PullResult({"time": one_line(measured.message)}, errors, None)
    for name in names:
        result = pull_one(store, transport, name)
        if isinstance(result, SyncError):
            errors[name] = result
            outcomes[name] = one_line(result.message)
            if result.kind in ("unreachable", "timeout", "tls", "auth"):
                break  # the next request would fail the same way
        else:
            outcomes[name] = result
    reading = clock.load(store)
    return PullResult(outcomes, errors, reading.offset_s if reading else None)


def measure_clock(store: KeyValueStore, transport: Transport) -> clock.ClockReading | SyncError:
    """GET /time (no token needed) and record the offset: the kiosk learns its clock is wrong even with
    nothing to send."""
    answer = transport.request("GET", protocol.TIME_PATH)
    if isinstance(answer, SyncError):
        return answer
    if answer.status != 200:
        return http_error(answer, "server time")
    try:
        server_time = protocol_pull.server_time_from_json(answer.body)
    except protocol.ProtocolError as exc:
        return SyncError("protocol", one_line(f"server time: {exc}"))
    reading = clock.measure(server_time, answer.midpoint)
    clock.save(store, reading)
    return reading


# -- trust material for offline verification -------------------------------------------------------------------


def trust_material(store: KeyValueStore) -> TrustMaterial:
    """What `kiosk.credentials` needs to verify signed codes, from the cached keys, revocations and trust list.

    The parsing is `kiosk.credentials.trust`'s (bad entries skipped with a warning, never fatal); `fetched_at`
    is the oldest of the three parts, so a stale part makes the whole look as stale as it is."""
    keys, keys_at = cached(store, "keys")
    revocations, revocations_at = cached(store, "revocations")
    trust_list, trust_at = cached(store, "trust-list")
    parts = []
    if keys is not None:
        parts.append(TrustMaterial(personal_keys=trust.parse_personal_keys(keys), fetched_at=keys_at))
    if revocations is not None:
        people, kids = trust.parse_revocations(revocations)
        parts.append(TrustMaterial(revoked_personal_ids=people, revoked_personal_kids=kids, fetched_at=revocations_at))
    if trust_list is not None:
        parts.append(TrustMaterial(dcc_certificates=trust.parse_trust_list(trust_list), fetched_at=trust_at))
    return trust.merge(*parts) if parts else TrustMaterial()


# -- the pulled station configuration -----------------------------------------------------------------------------


def remote_config(store: KeyValueStore) -> protocol_pull.RemoteConfig | None:
    """The cached configuration the server holds for this kiosk, or None if never fetched (or unreadable)."""
    document, _ = cached(store, "config")
    if document is None:
        return None
    try:
        return protocol_pull.RemoteConfig.from_json(document)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


# The `[station]` settings the venue manager sets on the server. Kept on the kiosk only (its config file): the
# retention period, the time zone, accepting unknown QRs as ids, the language default, the safety level (which
# comes from its own field of the configuration, not from `extra`).
SERVER_SETTABLE = frozenset(
    {
        "capacity_action",
        "closing_time",
        "declaration_max_age_hours",
        "dcc_required",
        "venue_name",
    }
)


def station_overrides(store: KeyValueStore) -> dict[str, Any]:
    """The cached server configuration as `[station]` settings, for
    `kiosk.config.with_overrides(settings, "station", station_overrides(store))`. Station settings the protocol
    does not name travel in `extra`; only those in SERVER_SETTABLE are taken, the rest are ignored with a
    warning (a server, or whoever controls it, must not turn off retention or change the venue's clock)."""
    config = remote_config(store)
    if config is None:
        return {}
    values: dict[str, Any] = {key: value for key, value in config.extra.items() if key in SERVER_SETTABLE}
    ignored = sorted(set(config.extra) - SERVER_SETTABLE)
    if ignored:
        log.warning("server configuration: ignoring settings it may not set: %s", ", ".join(ignored)[:200])
    values.update(mode=config.mode.value, capacity=config.capacity or 0, cooldown_seconds=config.cooldown_seconds)
    if config.accepted_credentials:
        values["accepted_credentials"] = tuple(config.accepted_credentials)
    values["questionnaire"] = config.questionnaire_policy.value
    if config.venue_name:
        values["venue_name"] = config.venue_name
    return values
