"""Server-side console sessions: the cookie carries a random id, the database its sha256 and the CSRF token.

A session ends after `idle` without a request or `absolute` after login, whichever comes first; a login
always makes a new id (a session id planted before login is never promoted: no fixation).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, or_, select, update

from server.console.accounts import ConsoleUser
from server.models import console_sessions, console_users

TOUCH_RESOLUTION = timedelta(seconds=30)  # last_seen_at is written at most this often: page views stay reads
MAX_SESSION_ID_LENGTH = 100


@dataclass(frozen=True)
class ConsoleSession:
    user: ConsoleUser
    csrf_token: str
    id_hash: str


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(conn: Connection, user: ConsoleUser, now: datetime, limits: SessionLimits) -> str:
    """A new session for `user`; returns its id (for the cookie). Expired sessions are swept on the way."""
    expired = or_(
        console_sessions.c.last_seen_at < now - limits.idle, console_sessions.c.created_at < now - limits.absolute
    )
    conn.execute(delete(console_sessions).where(expired))
    session_id = secrets.token_urlsafe(32)
    conn.execute(
        insert(console_sessions).values(
            id_hash=_hash(session_id),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
    )
    return session_id


def load_session(conn: Connection, session_id: str, now: datetime, limits: SessionLimits) -> ConsoleSession | None:
    """The live session with this id, or None (unknown, expired, or its user disabled). Notes its use."""
    if not session_id or len(session_id) > MAX_SESSION_ID_LENGTH:
        return None
    id_hash = _hash(session_id)
    row = conn.execute(
        select(console_sessions, console_users.c.username, console_users.c.role, console_users.c.venue_id)
        .join(console_users, console_users.c.id == console_sessions.c.user_id)
        .where(console_sessions.c.id_hash == id_hash, console_users.c.disabled_at.is_(None))
    ).first()
    if row is None:
        return None
    if now - row.last_seen_at > limits.idle or now - row.created_at > limits.absolute:
        conn.execute(delete(console_sessions).where(console_sessions.c.id_hash == id_hash))
        return None
    if now - row.last_seen_at >= TOUCH_RESOLUTION:
        conn.execute(update(console_sessions).where(console_sessions.c.id_hash == id_hash).values(last_seen_at=now))
    user = ConsoleUser(row.user_id, row.username, row.role, row.venue_id)
    return ConsoleSession(user, row.csrf_token, id_hash)


def end_session(conn: Connection, session_id: str) -> None:
    if session_id and len(session_id) <= MAX_SESSION_ID_LENGTH:
        conn.execute(delete(console_sessions).where(console_sessions.c.id_hash == _hash(session_id)))
