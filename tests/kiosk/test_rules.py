"""The check-in rules, as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from kiosk.config import StationSettings
from kiosk.credentials.base import Credential, Declaration, Rejection, Verification
from kiosk.events import Direction, StoredEvent
from kiosk.rules import Mode, Outcome, Policy, decide, last_closing

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PERSON = Credential(kind="cccd", id_number="038095001234", full_name="Lê Thị Hạnh", date_of_birth=date(1995, 3, 12))


def last(direction: Direction, ago: float) -> StoredEvent:
    return StoredEvent(
        direction=direction,
        credential="cccd",
        person_key=PERSON.person_key,
        id_number=PERSON.id_number,
        full_name=PERSON.full_name,
        date_of_birth=PERSON.date_of_birth,
        wall_time=NOW - timedelta(seconds=ago),
        monotonic_ns=0,
    )


@pytest.mark.parametrize(
    ("mode", "previous", "expected"),
    [
        (Mode.AUTO, None, Outcome.ENTRY),
        (Mode.AUTO, Direction.ENTRY, Outcome.EXIT),
        (Mode.AUTO, Direction.EXIT, Outcome.ENTRY),
        (Mode.ENTRY, Direction.ENTRY, Outcome.ENTRY),
        (Mode.EXIT, None, Outcome.EXIT),
    ],
)
def test_direction_follows_the_mode_after_the_cooldown(mode, previous, expected):
    before = last(previous, ago=3600) if previous else None
    decision = decide(PERSON, before, Policy(mode=mode), occupancy=5, now=NOW)
    assert decision.outcome is expected
    assert decision.direction == Direction(expected.value)


def test_repeat_within_cooldown_is_duplicate_and_says_when():
    before = last(Direction.ENTRY, ago=59)
    decision = decide(PERSON, before, Policy(cooldown=timedelta(seconds=60)), occupancy=1, now=NOW)
    assert decision.outcome is Outcome.DUPLICATE
    assert not decision.records
    assert decision.previous_time == before.wall_time


def test_cooldown_boundary_allows_the_next_scan():
    decision = decide(PERSON, last(Direction.ENTRY, ago=60), Policy(cooldown=timedelta(seconds=60)), 1, NOW)
    assert decision.outcome is Outcome.EXIT


def test_full_blocks_or_warns_by_policy():
    blocked = decide(PERSON, None, Policy(capacity=10), occupancy=10, now=NOW)
    assert blocked.outcome is Outcome.FULL and not blocked.records
    warned = decide(PERSON, None, Policy(capacity=10, block_when_full=False), occupancy=12, now=NOW)
    assert warned.outcome is Outcome.ENTRY and "over_capacity" in warned.warnings
    below = decide(PERSON, None, Policy(capacity=10), occupancy=9, now=NOW)
    assert below.outcome is Outcome.ENTRY


def test_someone_already_inside_is_not_counted_twice_against_capacity():
    decision = decide(PERSON, last(Direction.ENTRY, ago=7200), Policy(mode=Mode.ENTRY, capacity=3), 3, NOW)
    assert decision.outcome is Outcome.ENTRY


def test_exit_is_never_blocked_by_capacity():
    decision = decide(PERSON, last(Direction.ENTRY, ago=7200), Policy(capacity=1), occupancy=50, now=NOW)
    assert decision.outcome is Outcome.EXIT


def test_a_rejection_stays_a_rejection_with_its_reason():
    decision = decide(Rejection(kind="cccd", code="malformed", reason="Bad date of birth"), None, Policy(), 0, NOW)
    assert (decision.outcome, decision.reason_code, decision.reason) == (
        Outcome.REJECTED,
        "malformed",
        "Bad date of birth",
    )


def test_credentials_not_accepted_by_the_venue_are_rejected():
    decision = decide(PERSON, None, Policy(accepted=frozenset({"personal"})), 0, NOW)
    assert decision.outcome is Outcome.REJECTED and decision.reason_code == "not_accepted"
    opaque = Credential(kind="unknown", id_number="opaque:abcd")
    assert decide(opaque, None, Policy(), 0, NOW).reason_code == "not_accepted"
    assert decide(opaque, None, Policy(accept_unknown=True), 0, NOW).outcome is Outcome.ENTRY


@pytest.mark.parametrize(
    ("verification", "code"),
    [
        (Verification(signature="invalid"), "bad_signature"),
        (Verification(signature="unknown_key"), "unknown_key"),
        (Verification(signature="valid", expired=True), "expired"),
        (Verification(signature="valid", revoked=True), "revoked"),
        (Verification(signature="valid", key_usage="mismatch"), "key_usage"),
    ],
)
def test_signed_credentials_failing_verification_are_rejected(verification, code):
    credential = replace(PERSON, kind="dcc", verification=verification)
    decision = decide(credential, None, Policy(), 0, NOW)
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, code)


def test_valid_signed_credential_is_admitted():
    credential = replace(
        PERSON, kind="dcc", verification=Verification(signature="valid", expired=False, key_usage="ok")
    )
    assert decide(credential, None, Policy(), 0, NOW).outcome is Outcome.ENTRY


def test_expired_credential_is_rejected():
    credential = replace(PERSON, expires_at=NOW - timedelta(minutes=1))
    assert decide(credential, None, Policy(), 0, NOW).reason_code == "expired"


def test_declaration_policy():
    policy = Policy(declaration_max_age=timedelta(hours=24))
    fresh = replace(PERSON, kind="personal", declaration=Declaration(NOW - timedelta(hours=2), symptoms=False))
    stale = replace(fresh, declaration=Declaration(NOW - timedelta(hours=30), symptoms=False))
    sick = replace(fresh, declaration=Declaration(NOW - timedelta(hours=1), symptoms=True))
    assert decide(fresh, None, policy, 0, NOW).outcome is Outcome.ENTRY
    assert decide(stale, None, policy, 0, NOW).reason_code == "needs_declaration"
    assert decide(replace(fresh, declaration=None), None, policy, 0, NOW).reason_code == "needs_declaration"
    assert decide(sick, None, Policy(), 0, NOW).reason_code == "symptoms"


def test_dcc_required_refuses_other_credentials():
    assert decide(PERSON, None, Policy(dcc_required=True), 0, NOW).reason_code == "dcc_required"


def test_identity_warnings_are_carried_to_the_record():
    flagged = replace(PERSON, warnings=("id_mismatch",))
    decision = decide(flagged, None, Policy(), 0, NOW)
    assert decision.outcome is Outcome.ENTRY and decision.warnings == ("id_mismatch",)


def test_policy_from_settings():
    station = StationSettings(
        mode="exit",
        cooldown_seconds=30,
        capacity=80,
        capacity_action="warn",
        accepted_credentials=("cccd",),
        closing_time="22:30",
        declaration_max_age_hours=12,
    )
    policy = Policy.from_settings(station)
    assert policy.mode is Mode.EXIT and policy.cooldown == timedelta(seconds=30)
    assert policy.capacity == 80 and not policy.block_when_full
    assert policy.accepted == frozenset({"cccd"}) and policy.closing_time == time(22, 30)
    assert policy.declaration_max_age == timedelta(hours=12)


def test_last_closing_is_the_latest_closing_moment_in_venue_time():
    policy = Policy(closing_time=time(22, 0), timezone="Asia/Ho_Chi_Minh")  # UTC+7
    before = datetime(2026, 11, 25, 14, 59, tzinfo=UTC)  # 21:59 local
    at = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 22:00 local
    next_morning = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 08:00 local
    assert last_closing(policy, before) == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert last_closing(policy, at) == at
    assert last_closing(policy, next_morning) == at
    assert last_closing(Policy(), at) is None


def test_a_checkout_by_the_guard_or_closing_time_starts_no_cooldown():
    checked_out = replace(last(Direction.EXIT, ago=10), source="auto_checkout")
    decision = decide(PERSON, checked_out, Policy(), occupancy=0, now=NOW)
    assert decision.outcome is Outcome.ENTRY


def test_a_clock_that_went_backwards_makes_no_one_a_duplicate():
    future = last(Direction.ENTRY, ago=-9 * 24 * 3600)  # recorded "9 days from now" by a wrong clock
    assert decide(PERSON, future, Policy(), occupancy=1, now=NOW).outcome is Outcome.EXIT
