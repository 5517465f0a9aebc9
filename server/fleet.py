"""The fleet at a glance: every kiosk's last contact, backlog, clock, pull ages and refused events, with a state.

A kiosk is `offline` when it has been silent for more than an hour (or never spoke), `behind` when it spoke but
has events waiting, a clock more than 2 minutes off, or keys or a trust list older than 3 days, `ok` otherwise,
and `revoked` once no token of it is valid. Offline kiosks come first, the longest silent at the top: they are
the ones someone must walk to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, exists, or_, select

from server.models import kiosk_status, kiosks, tokens, venues
from sync.clock import OFFSET_WARNING_S

OFFLINE_AFTER = timedelta(hours=1)
STALE_TRUST_AFTER = timedelta(days=3)  # as the station's status bar warns


class KioskHealth(StrEnum):
    OFFLINE = "offline"
    BEHIND = "behind"
    OK = "ok"
    REVOKED = "revoked"


_ORDER = {KioskHealth.OFFLINE: 0, KioskHealth.BEHIND: 1, KioskHealth.OK: 2, KioskHealth.REVOKED: 3}


class Reason(StrEnum):
    """Why a kiosk is not `ok`: words the pages translate."""

    NEVER_CONNECTED = "never_connected"
    SILENT = "silent"
    BACKLOG = "backlog"
    CLOCK = "clock"
    KEYS_STALE = "keys_stale"
    TRUST_LIST_STALE = "trust_list_stale"


@dataclass(frozen=True)
class KioskState:
    kiosk_id: int
    name: str
    venue_id: int
    venue_name: str
    health: KioskHealth
    reasons: tuple[Reason, ...]
    enrolled: bool
    last_contact: datetime | None
    silent_s: float | None  # seconds since the last contact; None if never
    pending: int | None
    refused: int | None
    software_version: str | None
    clock_offset_s: float | None  # server - kiosk; the kiosk's own measurement when it reported one
    config_age_s: float | None
    keys_age_s: float | None
    revocations_age_s: float | None
    trust_list_age_s: float | None


def _age(now: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else max(0.0, (now - moment).total_seconds())


def _live_token(now: datetime) -> Any:
    return exists().where(
        tokens.c.kiosk_id == kiosks.c.id,
        tokens.c.revoked_at.is_(None),
        or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > now),
    )


def _reasons(row: Any, now: datetime, silent_s: float | None) -> tuple[Reason, ...]:
    if silent_s is None:
        return (Reason.NEVER_CONNECTED,)
    reasons: list[Reason] = []
    if silent_s > OFFLINE_AFTER.total_seconds():
        reasons.append(Reason.SILENT)
    if row.pending:
        reasons.append(Reason.BACKLOG)
    offset = _offset_s(row)
    if offset is not None and abs(offset) > OFFSET_WARNING_S:
        reasons.append(Reason.CLOCK)
    if row.reported_at is not None:  # only a kiosk that reports can say how old its material is
        stale = now - STALE_TRUST_AFTER
        if row.keys_fetched_at is None or row.keys_fetched_at < stale:
            reasons.append(Reason.KEYS_STALE)
        if row.trust_list_fetched_at is None or row.trust_list_fetched_at < stale:
            reasons.append(Reason.TRUST_LIST_STALE)
    return tuple(reasons)


def _offset_s(row: Any) -> float | None:
    if row.clock_offset_ms is not None:
        return float(row.clock_offset_ms) / 1000
    return None if row.last_clock_offset_ms is None else float(row.last_clock_offset_ms) / 1000


def _state(row: Any, now: datetime) -> KioskState:
    silent_s = _age(now, row.last_seen_at)
    reasons = _reasons(row, now, silent_s)
    if row.enrolled_at is not None and not row.live:
        health = KioskHealth.REVOKED
    elif Reason.NEVER_CONNECTED in reasons or Reason.SILENT in reasons:
        health = KioskHealth.OFFLINE
    else:
        health = KioskHealth.BEHIND if reasons else KioskHealth.OK
    return KioskState(
        kiosk_id=row.id,
        name=row.name,
        venue_id=row.venue_id,
        venue_name=row.venue_name,
        health=health,
        reasons=reasons,
        enrolled=row.enrolled_at is not None,
        last_contact=row.last_seen_at,
        silent_s=silent_s,
        pending=row.pending,
        refused=row.refused,
        software_version=row.software_version,
        clock_offset_s=_offset_s(row),
        config_age_s=_age(now, row.config_fetched_at),
        keys_age_s=_age(now, row.keys_fetched_at),
        revocations_age_s=_age(now, row.revocations_fetched_at),
        trust_list_age_s=_age(now, row.trust_list_fetched_at),
    )


def fleet_state(conn: Connection, now: datetime, venue_id: int | None = None) -> list[KioskState]:
    """Every kiosk (of one venue, or all): offline first (longest silent, never-connected, at the top), then
    behind, ok, revoked."""
    query = (
        select(
            kiosks.c.id,
            kiosks.c.name,
            kiosks.c.venue_id,
            venues.c.name.label("venue_name"),
            kiosks.c.enrolled_at,
            kiosks.c.last_seen_at,
            kiosks.c.last_clock_offset_ms,
            _live_token(now).label("live"),
            kiosk_status.c.reported_at,
            kiosk_status.c.software_version,
            kiosk_status.c.pending,
            kiosk_status.c.refused,
            kiosk_status.c.clock_offset_ms,
            kiosk_status.c.config_fetched_at,
            kiosk_status.c.keys_fetched_at,
            kiosk_status.c.revocations_fetched_at,
            kiosk_status.c.trust_list_fetched_at,
        )
        .select_from(
            kiosks.join(venues, venues.c.id == kiosks.c.venue_id).outerjoin(
                kiosk_status, and_(kiosk_status.c.kiosk_id == kiosks.c.id)
            )
        )
        .order_by(kiosks.c.id)
    )
    if venue_id is not None:
        query = query.where(kiosks.c.venue_id == venue_id)
    states = [_state(row, now) for row in conn.execute(query)]
    never = float("inf")
    return sorted(
        states,
        key=lambda s: (_ORDER[s.health], -(never if s.silent_s is None else s.silent_s), s.kiosk_id),
    )
