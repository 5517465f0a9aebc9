"""Check-in rules: pure functions of (credential, the visitor's last event, venue policy, occupancy, now).

No I/O here, so every rule is tested directly and the Qt app, `kiosk scan` and the benchmarks share it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.config import StationSettings
from kiosk.credentials.base import Credential, ParseResult, Rejection
from kiosk.credentials.verdict import verification_problem
from kiosk.events import Direction, StoredEvent
from kiosk.vocabulary import CredentialKind


class Mode(enum.StrEnum):
    ENTRY = "entry"
    EXIT = "exit"
    AUTO = "auto"  # a person's next scan after the cooldown flips in <-> out


class Outcome(enum.StrEnum):
    ENTRY = "entry"
    EXIT = "exit"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    FULL = "full"


@dataclass(frozen=True)
class Policy:
    """What this venue accepts; built from the station settings (and the server's config when synced)."""

    mode: Mode = Mode.AUTO
    cooldown: timedelta = timedelta(seconds=60)
    capacity: int = 0  # 0: no limit
    block_when_full: bool = True  # False: admit with a warning
    accepted: frozenset[str] = frozenset(CredentialKind)
    accept_unknown: bool = False
    declaration_max_age: timedelta | None = None  # personal QR must carry a declaration this recent
    dcc_required: bool = False  # only a valid vaccine certificate admits
    admit_symptoms: bool = False  # symptom policy "alert": a declaration with symptoms admits, flagged
    closing_time: time | None = None
    timezone: str = "Asia/Ho_Chi_Minh"

    @classmethod
    def from_settings(cls, station: StationSettings) -> Policy:
        closing = None
        if station.closing_time:
            hours, minutes = station.closing_time.split(":")
            closing = time(int(hours), int(minutes))
        max_age = station.declaration_max_age_hours
        return cls(
            mode=Mode(station.mode),
            cooldown=timedelta(seconds=station.cooldown_seconds),
            capacity=station.capacity,
            block_when_full=station.capacity_action == "block",
            accepted=frozenset(station.accepted_credentials),
            accept_unknown=station.accept_unknown,
            declaration_max_age=timedelta(hours=max_age) if max_age else None,
            dcc_required=station.dcc_required,
            admit_symptoms=station.symptom_policy == "alert",
            closing_time=closing,
            timezone=station.timezone,
        )


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    direction: Direction | None = None  # what gets recorded; None: nothing is recorded
    reason_code: str = ""
    reason: str = ""  # for a person, in English; the station translates by reason_code
    previous_time: datetime | None = None  # duplicate: when this person was recorded
    warnings: tuple[str, ...] = ()  # e.g. "id_mismatch", "over_capacity": recorded as flags, shown to the guard

    @property
    def records(self) -> bool:
        return self.direction is not None


def decide(parsed: ParseResult, last: StoredEvent | None, policy: Policy, occupancy: int, now: datetime) -> Decision:
    """The decision for one presentation of a code. `last` is this person's latest event at this station."""
    if isinstance(parsed, Rejection):
        return _rejected(parsed.code, parsed.reason)
    refusal = credential_refusal(parsed, policy, now)
    if refusal is not None:
        return refusal
    if last is not None and within_cooldown(last, now, policy.cooldown):
        return Decision(
            Outcome.DUPLICATE,
            reason_code="duplicate",
            previous_time=last.wall_time,
            reason=f"Already recorded at {last.wall_time.astimezone(now.tzinfo):%H:%M:%S}",
            warnings=parsed.warnings,
        )
    direction = next_direction(policy.mode, last)
    warnings = parsed.warnings
    if parsed.declaration is not None and parsed.declaration.symptoms:  # admitted only under the "alert" policy
        warnings = (*warnings, "symptoms")
    return _admit(direction, last, policy, occupancy, warnings)


def credential_refusal(credential: Credential, policy: Policy, now: datetime) -> Decision | None:
    """Why the venue refuses this credential, or None when it is acceptable."""
    accepted = policy.accept_unknown if credential.kind == "unknown" else credential.kind in policy.accepted
    if not accepted:
        return _rejected("not_accepted", f"This venue does not accept {credential.kind} codes")
    if credential.verification is not None:
        problem = verification_problem(credential.verification)
        if problem is not None:
            return _rejected(*problem)
    if credential.expires_at is not None and credential.expires_at <= now:
        return _rejected("expired", "This code has expired")
    if policy.dcc_required and credential.kind != "dcc":
        return _rejected("dcc_required", "A valid vaccination certificate is required here")
    return _declaration_refusal(credential, policy, now)


def _declaration_refusal(credential: Credential, policy: Policy, now: datetime) -> Decision | None:
    declaration = credential.declaration
    if declaration is not None and declaration.symptoms and not policy.admit_symptoms:
        return _rejected("symptoms", "Health declaration reports symptoms: please see the staff")
    if policy.declaration_max_age is None or credential.kind != "personal":
        return None
    if declaration is None or now - declaration.declared_at > policy.declaration_max_age:
        hours = int(policy.declaration_max_age.total_seconds() // 3600)
        return _rejected("needs_declaration", f"Please make a health declaration (within {hours} h)")
    return None


def next_direction(mode: Mode, last: StoredEvent | None) -> Direction:
    if mode is Mode.ENTRY:
        return Direction.ENTRY
    if mode is Mode.EXIT:
        return Direction.EXIT
    inside = last is not None and last.direction == Direction.ENTRY
    return Direction.EXIT if inside else Direction.ENTRY


def _admit(
    direction: Direction, last: StoredEvent | None, policy: Policy, occupancy: int, warnings: tuple[str, ...]
) -> Decision:
    if direction is Direction.EXIT:
        return Decision(Outcome.EXIT, Direction.EXIT, warnings=warnings)
    already_inside = last is not None and last.direction == Direction.ENTRY
    if policy.capacity and occupancy >= policy.capacity and not already_inside:
        if policy.block_when_full:
            return Decision(
                Outcome.FULL,
                reason_code="full",
                warnings=warnings,
                reason=f"The venue is full ({occupancy} / {policy.capacity})",
            )
        warnings = (*warnings, "over_capacity")
    return Decision(Outcome.ENTRY, Direction.ENTRY, warnings=warnings)


def _rejected(code: str, reason: str) -> Decision:
    return Decision(Outcome.REJECTED, reason_code=code, reason=reason)


def within_cooldown(last: StoredEvent, now: datetime, cooldown: timedelta) -> bool:
    """A repeat of the person's own scan. A checkout the guard or closing time made starts no cooldown, and a
    clock that went backwards (a cheap PC's dead CMOS battery, then corrected) makes no one a duplicate."""
    if last.source in ("manual_checkout", "auto_checkout"):
        return False
    return timedelta(0) <= now - last.wall_time < cooldown


def last_closing(policy: Policy, now: datetime) -> datetime | None:
    """The latest closing moment at or before `now`, in the venue's time zone; None without a closing time.

    The pipeline checks out everyone who entered before it, once: a kiosk that was off at closing time catches
    up when it starts the next morning."""
    if policy.closing_time is None:
        return None
    zone = ZoneInfo(policy.timezone)
    local = now.astimezone(zone)
    day = local.date() if local.time() >= policy.closing_time else local.date() - timedelta(days=1)
    return datetime.combine(day, policy.closing_time, zone)
