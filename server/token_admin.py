"""Tokens with a life: expiry, revocation that takes effect at the next request, and each token's last use.

A kiosk's tokens are revoked by kiosk id (a stolen or retired PC); a manager's or authority's token by its
public id, the first 12 hex digits of its hash (shown by `user add` and `user list`; the token itself is
shown once and never stored).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from server import admin
from server.auth import TOKEN_ID_LENGTH, token_id
from server.models import kiosks, tokens


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


def revoke_kiosk(engine: Engine, kiosk_id: int, now: datetime) -> int:
    """Revoke every live token of the kiosk (and its unused enrolment code); returns how many tokens."""
    with engine.begin() as conn:
        found = conn.execute(
            update(kiosks).where(kiosks.c.id == kiosk_id).values(enroll_code_hash=None, enroll_expires_at=None)
        ).rowcount
        if not found:
            raise admin.NotFound(f"no kiosk with id {kiosk_id}")
        live = tokens.c.kiosk_id == kiosk_id, tokens.c.revoked_at.is_(None)
        return int(conn.execute(update(tokens).where(*live).values(revoked_at=now)).rowcount)


def revoke_user(engine: Engine, user_id: str, now: datetime) -> None:
    """Revoke a manager's or authority's token by its public id (`user list`)."""
    user_id = user_id.strip().lower()
    if len(user_id) != TOKEN_ID_LENGTH or any(ch not in "0123456789abcdef" for ch in user_id):
        raise admin.Invalid(f"a user id is {TOKEN_ID_LENGTH} hex digits, as `kiosk-server user list` shows")
    with engine.begin() as conn:
        match = (
            func.substr(tokens.c.token_hash, 1, TOKEN_ID_LENGTH) == user_id,
            tokens.c.role.in_(("manager", "authority")),
        )
        if conn.execute(select(tokens.c.token_hash).where(*match)).first() is None:
            raise admin.NotFound(f"no manager or authority token with id {user_id}")
        conn.execute(update(tokens).where(*match, tokens.c.revoked_at.is_(None)).values(revoked_at=now))


def _state(row: Any, now: datetime) -> str:
    if row.revoked_at is not None:
        return f"revoked {_when(row.revoked_at)}"
    if row.expires_at is not None and row.expires_at <= now:
        return f"expired {_when(row.expires_at)}"
    return f"valid until {_when(row.expires_at)}" if row.expires_at else "valid"


def kiosk_lines(conn: Connection, now: datetime) -> Iterator[str]:
    """`kiosk list`: one line per kiosk token (a kiosk never enrolled: one line without a token)."""
    query = (
        select(kiosks.c.id, kiosks.c.venue_id, kiosks.c.name, kiosks.c.last_seen_at, tokens)
        .select_from(kiosks.outerjoin(tokens, tokens.c.kiosk_id == kiosks.c.id))
        .order_by(kiosks.c.id, tokens.c.created_at)
    )
    for row in conn.execute(query):
        if row.token_hash is None:
            yield f"{row.id}\tvenue {row.venue_id}\t{row.name or '-'}\tnot enrolled"
            continue
        yield (
            f"{row.id}\tvenue {row.venue_id}\t{row.name or '-'}\ttoken {token_id(row.token_hash)}\t"
            f"{_state(row, now)}\tlast used {_when(row.last_used_at)}"
        )


def user_lines(conn: Connection, now: datetime) -> Iterator[str]:
    """`user list`: one line per manager or authority token."""
    query = select(tokens).where(tokens.c.role.in_(("manager", "authority"))).order_by(tokens.c.created_at)
    for row in conn.execute(query):
        venue = f"venue {row.venue_id}" if row.venue_id else "-"
        yield (
            f"{token_id(row.token_hash)}\t{row.role}\t{venue}\t{row.name or '-'}\tcreated {_when(row.created_at)}\t"
            f"{_state(row, now)}\tlast used {_when(row.last_used_at)}"
        )


def expiry(now: datetime, days: float | None) -> datetime | None:
    return now + timedelta(days=days) if days is not None else None
