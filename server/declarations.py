"""Health declarations and persons: record a declaration, issue the personal QR that carries its outcome."""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from kiosk.credentials.personal_sign import issue_personal_qr
from server import admin
from server.keys import active_signer
from server.models import declarations, persons

DECLARATION_QR_VALIDITY = timedelta(days=7)  # the venue's policy decides how recent a declaration must be
CARD_VALIDITY = timedelta(days=180)
_PERSON_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"

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


class PersonConflict(admin.Invalid):
    """The ID number belongs to a person with another name or date of birth: no QR (it would carry that
    person's id). Staff check the papers and correct the record."""


CONFLICT_MESSAGE = (
    "this ID number is already registered with a different name or date of birth: please see a staff member "
    "(số CCCD này đã được đăng ký với họ tên hoặc ngày sinh khác: vui lòng gặp nhân viên)"
)


def same_name(a: str, b: str) -> bool:
    """Names compared as people type them: case, diacritics (đ too) and spacing do not matter."""
    return _fold(a) == _fold(b)


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().split())


def find_or_create_person(engine: Engine, person: PersonInput) -> str:
    """The person's id: the same ID number (or, without one, the same name and phone) gets the same id back.

    An ID number already held by someone whose name or date of birth differs raises PersonConflict: anyone
    could otherwise type another's number and get a QR tracing would take for theirs. Persons are inserted with
    ON CONFLICT DO NOTHING on the unique ID number, so concurrent declarations of one number make one person."""
    with engine.begin() as conn:
        if person.id_number:
            return _by_id_number(conn, person)
        query = select(persons.c.id).where(
            persons.c.id_number.is_(None),
            persons.c.full_name == person.full_name,
            persons.c.phone == (person.phone or None),
        )
        existing: str | None = conn.scalars(query.limit(1)).first()
        if existing:
            return existing
        person_id = _new_person_id()
        conn.execute(insert(persons).values(_person_row(person_id, person)))
    return person_id


def _by_id_number(conn: Connection, person: PersonInput) -> str:
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(persons).values(_person_row(_new_person_id(), person))
    conn.execute(statement.on_conflict_do_nothing(index_elements=["id_number"]))
    row = conn.execute(
        select(persons.c.id, persons.c.full_name, persons.c.date_of_birth).where(
            persons.c.id_number == person.id_number
        )
    ).one()
    if not same_name(row.full_name, person.full_name) or (
        row.date_of_birth is not None and row.date_of_birth != person.date_of_birth
    ):
        raise PersonConflict(CONFLICT_MESSAGE)
    return str(row.id)


def _new_person_id() -> str:
    return "P" + "".join(secrets.choice(_PERSON_ALPHABET) for _ in range(11))


def _person_row(person_id: str, person: PersonInput) -> dict[str, object]:
    return {
        "id": person_id,
        "full_name": person.full_name,
        "id_number": person.id_number or None,
        "date_of_birth": person.date_of_birth,
        "phone": person.phone or None,
        "created_at": _now(),
    }


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
    person_id = find_or_create_person(engine, person)
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
    person_id = find_or_create_person(engine, person)
    expires_at = _now() + validity
    return IssuedQr(
        person_id, person.full_name, issue_personal_qr(key, kid, person_id, person.full_name, expires_at), expires_at
    )
