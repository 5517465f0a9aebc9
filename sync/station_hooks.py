"""What the core's front ends (`kiosk scan`, `kiosk doctor`) get from sync without importing it.

`kiosk.cli` discovers these through entry points (`qr_checkpoint.station_context`, `qr_checkpoint.doctor`), so
the core stays free of the network while a kiosk that has synced still uses the server's station settings and
the keys and trust lists it pulled. The station (ui) calls them directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kiosk.config import ConfigError, Settings, with_overrides
from kiosk.credentials.base import TrustMaterial
from sync import clock, protocol, protocol_pull
from sync.clock import KeyValueStore
from sync.pull import remote_config, station_overrides, trust_material
from sync.transport import SyncError, Transport

log = logging.getLogger(__name__)

TRUST_CACHE_S = 60.0  # re-read the pulled keys and trust list at most this often (parsing certificates costs)
DOCTOR_TIMEOUT_S = (5.0, 5.0)

Check = tuple[str, bool, str]


def with_server_config(settings: Settings, store: KeyValueStore) -> Settings:
    """The settings with the station configuration the server last sent (when any, and when it is valid)."""
    overrides = station_overrides(store)
    remote = remote_config(store)
    if remote is not None:  # the server is the authority on the safety level, including "not assessed"
        overrides["safety_level"] = remote.safety_level or ""
        assessed = remote.safety_assessed_on if remote.safety_level else None
        overrides["safety_assessed_on"] = assessed.isoformat() if assessed else ""
    if not overrides:
        return settings
    try:
        return with_overrides(settings, "station", overrides)
    except ConfigError as error:  # a server-side mistake must not stop the door: keep the local settings
        log.warning("ignoring the server's station configuration: %s", error)
        return settings


def cached_trust(store: KeyValueStore) -> Callable[[], TrustMaterial]:
    """The trust material sync has pulled (keys, revocations, DCC signers), re-read at most once a minute."""
    cache: dict[str, Any] = {"at": -TRUST_CACHE_S, "value": TrustMaterial()}

    def current() -> TrustMaterial:
        if time.monotonic() - cache["at"] >= TRUST_CACHE_S:
            try:
                cache["value"] = trust_material(store)
            except Exception as error:  # a corrupt cache must not stop scanning; the status bar shows the age
                log.warning("could not load the trust material: %s", error)
            cache["at"] = time.monotonic()
        material: TrustMaterial = cache["value"]
        return material

    return current


def station_context(settings: Settings, store: KeyValueStore) -> tuple[Settings, Callable[[], TrustMaterial]]:
    """Entry point `qr_checkpoint.station_context`: the server's settings and the pulled trust material."""
    return with_server_config(settings, store), cached_trust(store)


def doctor_checks(settings: Settings) -> list[Check]:
    """Entry point `qr_checkpoint.doctor`: is the server reachable, does it accept our token, is our clock right."""
    server = settings.server
    if not server.url:
        return [("server", True, "not configured: the station works offline (kiosk enroll to connect it)")]
    transport = Transport(server.url, server.token or None, ca_file=server.ca_file or None, timeout=DOCTOR_TIMEOUT_S)
    answer = transport.request("GET", protocol.TIME_PATH)
    if isinstance(answer, SyncError):
        return [("server", False, f"{server.url} unreachable: {answer}")]
    checks = [("server", answer.status == 200, f"{server.url} answered {answer.status}")]
    if answer.status == 200:
        try:
            reading = clock.measure(protocol_pull.server_time_from_json(answer.body), answer.midpoint)
            checks.append(("clock offset", not reading.warning, f"{reading.offset_s:+.1f} s from the server"))
        except protocol.ProtocolError as error:
            checks.append(("clock offset", False, f"the server's time is unreadable: {error}"))
    checks.append(_token_check(transport, bool(server.token)))
    return checks


def _token_check(transport: Transport, has_token: bool) -> Check:
    if not has_token:
        return ("enrolment", False, "no token: run kiosk enroll --server URL --code CODE")
    answer = transport.request("GET", protocol.CONFIG_PATH)
    if isinstance(answer, SyncError):
        return ("enrolment", False, str(answer))
    if answer.status in (200, 304):
        return ("enrolment", True, "the server accepts this kiosk's token")
    return ("enrolment", False, f"the server refused this kiosk's token ({answer.status}): enrol again")
