"""The audit page (admin: read only, nothing here can change or delete it) and the API-token page (every
user: their own tokens, made and revoked here; a token is for a machine, the console is for people)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, insert, select, update

from server.auth import hash_secret, new_token, token_id
from server.console.accounts import ConsoleUser
from server.console.audit import ACTIONS, audit_entries
from server.console.web import CheckedForm, ConsoleUserDep, now_utc, render, require_console_user
from server.models import tokens
from server.routes.deps import EngineDep

router = APIRouter(include_in_schema=False)
AdminUser = Annotated[ConsoleUser, Depends(require_console_user("admin"))]
AUDIT_PAGE = 100
TOKEN_ROLES = ("authority", "manager")  # the roles the API knows; an admin has no API of their own


@router.get("/console/audit", response_class=HTMLResponse)
def audit_page(request: Request, _user: AdminUser, engine: EngineDep, before: int | None = None) -> HTMLResponse:
    with engine.connect() as conn:
        entries = audit_entries(conn, AUDIT_PAGE, before)
    older = entries[-1].id if len(entries) == AUDIT_PAGE else None
    return render(request, "audit.html", entries=entries, actions=ACTIONS, older=older)


def _own_tokens(conn: Connection, user: ConsoleUser) -> list[Any]:
    query = select(tokens).where(tokens.c.owner_id == user.id).order_by(tokens.c.created_at.desc())
    return [
        {"id": token_id(row.token_hash), "name": row.name, "created_at": row.created_at, "row": row}
        for row in conn.execute(query)
    ]


def _tokens_page(request: Request, engine: EngineDep, user: ConsoleUser, **extra: Any) -> HTMLResponse:
    with engine.connect() as conn:
        own = _own_tokens(conn, user)
    return render(request, "tokens.html", own=own, may_create=user.role in TOKEN_ROLES, now=now_utc(request), **extra)


@router.get("/console/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, user: ConsoleUserDep, engine: EngineDep) -> HTMLResponse:
    return _tokens_page(request, engine, user, revoked=request.query_params.get("revoked", ""))


@router.post("/console/tokens", response_class=HTMLResponse)
def create_token(request: Request, user: ConsoleUserDep, engine: EngineDep, form: CheckedForm) -> HTMLResponse:
    if user.role not in TOKEN_ROLES:
        return _tokens_page(request, engine, user, error="role")
    days_text = form.get("expires_days", "").strip() or "90"
    if not days_text.isdigit() or not 1 <= int(days_text) <= 366:
        return _tokens_page(request, engine, user, error="days")
    now = now_utc(request)
    token = new_token(user.role)
    with engine.begin() as conn:
        conn.execute(
            insert(tokens).values(
                token_hash=hash_secret(token),
                role=user.role,
                venue_id=user.venue_id if user.role == "manager" else None,
                name=form.get("name", "").strip()[:200] or f"console:{user.username}",
                created_at=now,
                expires_at=now + timedelta(days=int(days_text)),
                owner_id=user.id,
            )
        )
    return _tokens_page(request, engine, user, new_token=token)


@router.post("/console/tokens/revoke")
def revoke_token(request: Request, user: ConsoleUserDep, engine: EngineDep, form: CheckedForm) -> Response:
    wanted = form.get("token_id", "").strip().lower()
    with engine.begin() as conn:
        for own in _own_tokens(conn, user):  # only the user's own: another's id matches nothing here
            if own["id"] == wanted and own["row"].revoked_at is None:
                conn.execute(
                    update(tokens)
                    .where(tokens.c.token_hash == own["row"].token_hash)
                    .values(revoked_at=now_utc(request))
                )
    return RedirectResponse(f"/console/tokens?revoked={wanted}", status_code=303)
