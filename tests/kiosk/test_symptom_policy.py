"""One symptom policy for every path (issue 10, item 3): `station.symptom_policy` decides what a personal QR whose
declaration reports symptoms does, the same way the station treats a questionnaire answered "yes"."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from kiosk.config import ConfigError, StationSettings, settings_from_mapping
from kiosk.credentials.base import Credential, Declaration
from kiosk.rules import Outcome, Policy, decide

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SICK = Credential(
    kind="personal",
    id_number="038095001234",
    full_name="Lê Thị Hạnh",
    date_of_birth=date(1995, 3, 12),
    declaration=Declaration(NOW - timedelta(hours=1), symptoms=True),
)


def test_refuse_is_the_default_and_refuses() -> None:
    policy = Policy.from_settings(StationSettings())
    decision = decide(SICK, None, policy, 0, NOW)
    assert decision.outcome is Outcome.REJECTED and decision.reason_code == "symptoms" and not decision.records


def test_alert_admits_flagged() -> None:
    policy = Policy.from_settings(StationSettings(symptom_policy="alert"))
    decision = decide(SICK, None, policy, 0, NOW)
    assert decision.outcome is Outcome.ENTRY and decision.records
    assert "symptoms" in decision.warnings  # recorded as the event's flag, shown amber with the reason


def test_a_healthy_declaration_is_not_flagged_under_alert() -> None:
    healthy = replace(SICK, declaration=Declaration(NOW - timedelta(hours=1), symptoms=False))
    decision = decide(healthy, None, Policy(admit_symptoms=True), 0, NOW)
    assert decision.outcome is Outcome.ENTRY and "symptoms" not in decision.warnings


def test_the_setting_takes_only_its_two_words() -> None:
    assert settings_from_mapping({"station": {"symptom_policy": "alert"}}).station.symptom_policy == "alert"
    with pytest.raises(ConfigError, match="symptom_policy"):
        settings_from_mapping({"station": {"symptom_policy": "maybe"}})
