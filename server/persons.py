"""Persons and the ID numbers they claim.

A number typed on the public declaration page is a claim, never proof: anyone can type anyone's number. So
- a declaration never fails because of its number, and its answer is the same whether the number is known;
- a claim is matched only to an earlier *claim* with the same number, name and date of birth (the same person
  declaring again keeps their person id); it never joins a staff-verified person;
- several persons may claim one number; staff see them (`kiosk-server person conflicts`) and settle them
  (`person resolve`): at most one person per number is `verified`.
Cards printed by staff (`person card`) are verified: staff saw the papers.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from server import admin
from server.models import declarations, persons

CLAIMED, VERIFIED, REJECTED = "claimed", "verified", "rejected"
ID_STATUSES = (CLAIMED, VERIFIED, REJECTED)
_PERSON_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


@dataclass(frozen=True)
class Claimant:
    """Who may be behind a person id: their declared name and number, and what staff made of the claim."""

    full_name: str
    id_number: str
    date_of_birth: date | None
    phone: str


class PersonConflict(admin.Invalid):
    """Staff printing a card for a number another verified person holds: staff settle it first."""


def same_name(a: str, b: str) -> bool:
    """Names compared as people type them: case, diacritics (đ too) and spacing do not matter."""
    return _fold(a) == _fold(b)


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().split())


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def new_person_id() -> str:
    return "P" + "".join(secrets.choice(_PERSON_ALPHABET) for _ in range(11))


def _insert(conn: Connection, person: Claimant, status: str) -> str:
    person_id = new_person_id()
    conn.execute(
        insert(persons).values(
            id=person_id,
            full_name=person.full_name,
            id_number=person.id_number or None,
            date_of_birth=person.date_of_birth,
            phone=person.phone or None,
            created_at=_now(),
            id_status=status,
        )
    )
    return person_id


def _serialise(conn: Connection, number: str) -> None:
    """One writer per number at a time, so two identical declarations arriving together make one person."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": f"person:{number}"})
    else:  # SQLite: a write statement takes the database's write lock until the transaction ends
        conn.execute(update(persons).where(persons.c.id == "").values(full_name=persons.c.full_name))


def _matches(row: Any, person: Claimant) -> bool:
    return same_name(row.full_name, person.full_name) and row.date_of_birth == person.date_of_birth


def claim_person(engine: Engine, person: Claimant) -> str:
    """The person id for a self-declared person: their earlier claim when name, number and birth date match,
    else a new claim. Never raises for a number someone else holds, and answers the same either way."""
    with engine.begin() as conn:
        if not person.id_number:
            query = select(persons.c.id).where(
                persons.c.id_number.is_(None),
                persons.c.full_name == person.full_name,
                persons.c.phone == (person.phone or None),
            )
            existing: str | None = conn.scalars(query.limit(1)).first()
            return existing or _insert(conn, person, CLAIMED)
        _serialise(conn, person.id_number)
        rows = conn.execute(
            select(persons.c.id, persons.c.full_name, persons.c.date_of_birth)
            .where(persons.c.id_number == person.id_number, persons.c.id_status == CLAIMED)
            .order_by(persons.c.created_at, persons.c.id)
        ).all()
        for row in rows:
            if _matches(row, person):
                return str(row.id)
        return _insert(conn, person, CLAIMED)


def verified_person(engine: Engine, person: Claimant) -> str:
    """The person id for someone whose papers staff saw (a printed card): the verified holder of the number,
    or their earlier matching claim promoted to verified, or a new verified person. PersonConflict when
    another verified person holds the number with another name or birth date."""
    if not person.id_number:
        return claim_person(engine, person)
    with engine.begin() as conn:
        _serialise(conn, person.id_number)
        rows = conn.execute(
            select(persons.c.id, persons.c.full_name, persons.c.date_of_birth, persons.c.id_status)
            .where(persons.c.id_number == person.id_number, persons.c.id_status != REJECTED)
            .order_by(persons.c.created_at, persons.c.id)
        ).all()
        holder = next((row for row in rows if row.id_status == VERIFIED), None)
        if holder is not None:
            if not _matches(holder, person):
                raise PersonConflict(
                    f"ID number {person.id_number} is verified for person {holder.id} with another name or birth "
                    "date: see `kiosk-server person conflicts`"
                )
            return str(holder.id)
        claim = next((row for row in rows if _matches(row, person)), None)
        if claim is not None:
            conn.execute(update(persons).where(persons.c.id == claim.id).values(id_status=VERIFIED))
            return str(claim.id)
        return _insert(conn, person, VERIFIED)


def conflicts(conn: Connection) -> list[dict[str, Any]]:
    """Every person sharing an ID number with another person (not rejected), grouped by number, oldest
    first, with how many declarations each made."""
    shared = (
        select(persons.c.id_number)
        .where(persons.c.id_number.is_not(None), persons.c.id_status != REJECTED)
        .group_by(persons.c.id_number)
        .having(func.count() > 1)
    )
    declared = (
        select(func.count()).select_from(declarations).where(declarations.c.person_id == persons.c.id)
    ).scalar_subquery()
    rows = conn.execute(
        select(persons, declared.label("declarations"))
        .where(persons.c.id_number.in_(shared), persons.c.id_status != REJECTED)
        .order_by(persons.c.id_number, persons.c.created_at, persons.c.id)
    ).all()
    return [
        {
            "id_number": row.id_number,
            "person_id": row.id,
            "id_status": row.id_status,
            "full_name": row.full_name,
            "date_of_birth": row.date_of_birth.isoformat() if row.date_of_birth else None,
            "created_at": row.created_at.isoformat(),
            "declarations": int(row.declarations),
        }
        for row in rows
    ]


def resolve(engine: Engine, person_id: str, status: str) -> None:
    """Staff's decision on a person's claim. `verified`: this person holds the number (refused while another
    verified person holds it: reject that one first). `rejected`: the claim is false; the person's QR is
    revoked too, so kiosks stop accepting it at their next sync."""
    if status not in ID_STATUSES:
        raise admin.Invalid(f"status must be one of {', '.join(ID_STATUSES)}")
    try:
        with engine.begin() as conn:
            found = conn.execute(update(persons).where(persons.c.id == person_id).values(id_status=status)).rowcount
    except IntegrityError:
        raise admin.Invalid(
            "another person is verified for this ID number: reject that person first (`person resolve`)"
        ) from None
    if not found:
        raise admin.NotFound(f"no person with id {person_id!r}")
    if status == REJECTED:
        admin.add_revocation(engine, "person", person_id)
