"""Health declarations and persons: record a declaration, issue the personal QR that carries its outcome."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, insert

from kiosk.credentials.personal_sign import issue_personal_qr
from server import admin
from server.keys import active_signer
from server.models import declarations
from server.persons import Claimant, PersonConflict, claim_person, verified_person

__all__ = ["PersonConflict", "PersonInput", "declare", "issue_card"]  # PersonConflict: for card printing

DECLARATION_QR_VALIDITY = timedelta(days=7)  # the venue's policy decides how recent a declaration must be
CARD_VALIDITY = timedelta(days=180)

# The questionnaire (key, Vietnamese, English). Any "yes" marks the declaration as "symptoms".
QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("fever", "Sốt", "Fever"),
    ("cough", "Ho", "Cough"),
    ("breath", "Khó thở", "Shortness of breath"),
    ("throat", "Đau họng", "Sore throat"),
    ("taste_smell", "Mất vị giác hoặc khứu giác", "Loss of taste or smell"),
    (
        "contact",
        "Tiếp xúc gần với người mắc hoặc nghi mắc COVID-19 trong 14 ngày qua",
        "Close contact with a confirmed or suspected COVID-19 case in the last 14 days",
    ),
    ("travel", "Đi về từ vùng có dịch trong 14 ngày qua", "Returned from an outbreak area in the last 14 days"),
)
QUESTION_KEYS = tuple(key for key, _, _ in QUESTIONS)


@dataclass(frozen=True)
class PersonInput:
    full_name: str
    id_number: str = ""
    date_of_birth: date | None = None
    phone: str = ""


@dataclass(frozen=True)
class IssuedQr:
    person_id: str
    full_name: str
    qr: str
    expires_at: datetime
    declared_at: datetime | None = None
    symptoms: bool | None = None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def clean_person(raw: PersonInput) -> PersonInput:
    """Validate and normalise; admin.Invalid with a one-line message for the person filling the form."""
    name = " ".join(unicodedata.normalize("NFC", raw.full_name).split())
    if not 2 <= len(name) <= 100 or any(unicodedata.category(ch).startswith("C") for ch in name):
        raise admin.Invalid("full name: 2 to 100 characters")
    id_number = raw.id_number.strip()
    if id_number and not re.fullmatch(r"\d{9}|\d{12}", id_number):
        raise admin.Invalid("ID number: 9 or 12 digits")
    phone = re.sub(r"[\s.-]", "", raw.phone)
    if phone and not re.fullmatch(r"\+?\d{9,15}", phone):
        raise admin.Invalid("phone: 9 to 15 digits")
    if raw.date_of_birth and not date(1900, 1, 1) <= raw.date_of_birth <= date.today():
        raise admin.Invalid("date of birth: not a plausible date")
    return PersonInput(name, id_number, raw.date_of_birth, phone)


def _claimant(person: PersonInput) -> Claimant:
    return Claimant(person.full_name, person.id_number, person.date_of_birth, person.phone)


def parse_answers(raw: Mapping[str, object]) -> dict[str, bool]:
    """Every question answered yes/no; admin.Invalid names a missing one."""
    answers: dict[str, bool] = {}
    for key in QUESTION_KEYS:
        value = raw.get(key)
        if isinstance(value, str):
            value = {
                "yes": True,
                "co": True,
                "có": True,
                "true": True,
                "no": False,
                "khong": False,
                "không": False,
                "false": False,
            }.get(value.strip().lower(), value)
        if not isinstance(value, bool):
            raise admin.Invalid(f"question {key!r}: answer yes or no")
        answers[key] = value
    return answers


def declare(
    engine: Engine, person: PersonInput, answers: Mapping[str, object], validity: timedelta = DECLARATION_QR_VALIDITY
) -> IssuedQr:
    """Record a declaration and sign a personal QR carrying its time and outcome."""
    person = clean_person(person)
    checked = parse_answers(answers)
    symptoms = any(checked.values())
    kid, key = active_signer(engine)
    person_id = claim_person(engine, _claimant(person))  # a typed number is a claim (server.persons)
    declared_at = _now()
    expires_at = declared_at + validity
    qr = issue_personal_qr(key, kid, person_id, person.full_name, expires_at, declared_at, symptoms)
    with engine.begin() as conn:
        conn.execute(
            insert(declarations).values(
                person_id=person_id,
                declared_at=declared_at,
                answers=json.dumps(checked),
                symptoms=symptoms,
                kid=kid,
                qr_expires_at=expires_at,
            )
        )
    return IssuedQr(person_id, person.full_name, qr, expires_at, declared_at, symptoms)


def issue_card(engine: Engine, person: PersonInput, validity: timedelta = CARD_VALIDITY) -> IssuedQr:
    """A long-lived personal QR without a declaration, for a printed card."""
    person = clean_person(person)
    kid, key = active_signer(engine)
    person_id = verified_person(engine, _claimant(person))  # staff print cards: they saw the papers
    expires_at = _now() + validity
    return IssuedQr(
        person_id, person.full_name, issue_personal_qr(key, kid, person_id, person.full_name, expires_at), expires_at
    )
