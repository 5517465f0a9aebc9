"""Persons (authority, admin): look a person up, and settle the persons who claim one ID number (a number
typed on the public declaration page is a claim: server.persons). Every view is in the audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection, func, select

from server import admin
from server.console.accounts import ConsoleUser
from server.console.audit import record_audit
from server.console.trace_search import normalise_phone
from server.console.web import CheckedForm, now_utc, render, request_language, require_console_user
from server.models import declarations, persons
from server.persons import REJECTED, VERIFIED, conflicts, resolve, same_name
from server.routes.deps import EngineDep, client_key

router = APIRouter(include_in_schema=False)
PersonsUser = Annotated[ConsoleUser, Depends(require_console_user("authority", "admin"))]
MAX_RESULTS = 50


def _declared() -> Any:
    return (
        select(func.count()).select_from(declarations).where(declarations.c.person_id == persons.c.id)
    ).scalar_subquery()


def find_persons(conn: Connection, text: str, born: date | None) -> list[Any]:
    """By ID number or person id (exact), phone (exact, spacing ignored), or name with a birth date."""
    text = " ".join(text.split())
    query = select(persons, _declared().label("declarations")).order_by(persons.c.created_at).limit(MAX_RESULTS)
    phone = normalise_phone(text)
    if phone.lstrip("+").isdigit():
        number = persons.c.id_number == text
        return list(conn.execute(query.where(number | (persons.c.phone == phone))))
    if text.startswith("P") and len(text) == 12:
        return list(conn.execute(query.where(persons.c.id == text)))
    if born is None:
        return []
    rows = conn.execute(query.where(persons.c.date_of_birth == born).limit(None))
    return [row for row in rows if same_name(row.full_name, text)][:MAX_RESULTS]


def _page(request: Request, engine: EngineDep, user: ConsoleUser, **extra: Any) -> HTMLResponse:
    with engine.begin() as conn:
        shared = conflicts(conn)
        if shared:
            numbers = sorted({row["id_number"] for row in shared})
            query = {"view": "conflicts", "id_numbers": numbers}
            record_audit(conn, user, "person_view", query, len(shared), at=now_utc(request), client=client_key(request))
    return render(request, "persons.html", conflicts=shared, **extra)


@router.get("/console/persons", response_class=HTMLResponse)
def persons_page(request: Request, user: PersonsUser, engine: EngineDep) -> HTMLResponse:
    return _page(request, engine, user)


@router.post("/console/persons", response_class=HTMLResponse)
def person_search(request: Request, user: PersonsUser, engine: EngineDep, form: CheckedForm) -> HTMLResponse:
    text = form.get("query", "").strip()[:100]
    born_text = form.get("date_of_birth", "").strip()
    try:
        born = date.fromisoformat(born_text) if born_text else None
    except ValueError:
        born = None
    if not text:
        return _page(request, engine, user, searched=False, query=text, born=born_text)
    with engine.begin() as conn:
        found = find_persons(conn, text, born)
        asked = {"query": text, **({"date_of_birth": born_text} if born_text else {})}
        record_audit(conn, user, "person_search", asked, len(found), at=now_utc(request), client=client_key(request))
    return _page(request, engine, user, searched=True, found=found, query=text, born=born_text)


@router.post("/console/persons/resolve", response_class=HTMLResponse)
def person_resolve(request: Request, user: PersonsUser, engine: EngineDep, form: CheckedForm) -> HTMLResponse:
    person_id, status = form.get("person_id", "").strip(), form.get("status", "")
    vi = request_language(request) == "vi"
    if status not in (VERIFIED, REJECTED):
        return _page(request, engine, user, error="status: verified or rejected")
    try:
        resolve(engine, person_id, status)
    except (admin.Invalid, admin.NotFound) as exc:
        message = "Người khác đã được xác minh cho số này: bác bỏ người đó trước." if vi else str(exc)
        if isinstance(exc, admin.NotFound):
            message = "Không tìm thấy người này." if vi else str(exc)
        return _page(request, engine, user, error=message)
    with engine.begin() as conn:
        query = {"person_id": person_id, "status": status}
        record_audit(conn, user, "person_resolve", query, 1, at=now_utc(request), client=client_key(request))
    return _page(request, engine, user, resolved=(person_id, status))
