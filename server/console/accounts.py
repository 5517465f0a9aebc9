"""Console logins: people (authority, venue manager, admin) with a password; machines keep API tokens.

Passwords are hashed with scrypt (memory-hard, in the standard library): n=2**14, r=8, p=1 is 16 MiB and
some tens of milliseconds a guess, and the parameters are stored with each hash so they can grow later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, insert, select, update

from server import admin
from server.models import console_sessions, console_users

CONSOLE_ROLES = ("authority", "manager", "admin")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # a longer "password" is an attempt to make scrypt hash megabytes
MAX_USERNAME_LENGTH = 100
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class ConsoleUser:
    """Who is logged in to the console."""

    id: int
    username: str
    role: str
    venue_id: int | None = None

    def may_read_venue(self, venue_id: int) -> bool:
        return self.role == "admin" or (self.role == "manager" and self.venue_id == venue_id)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` (base64 parts)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))  # unknown users cost the same time as known ones


def check_new_login(role: str, username: str, password: str, venue_id: int | None) -> None:
    if role not in CONSOLE_ROLES:
        raise admin.Invalid(f"role must be one of {', '.join(CONSOLE_ROLES)}")
    if not username.strip() or username != username.strip() or len(username) > MAX_USERNAME_LENGTH:
        raise admin.Invalid(f"a user name: 1 to {MAX_USERNAME_LENGTH} characters, no spaces at its ends")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise admin.Invalid(f"a password: {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    if role == "manager" and venue_id is None:
        raise admin.Invalid("a manager needs --venue")


def add_console_user(engine: Engine, role: str, username: str, password: str, venue_id: int | None = None) -> int:
    """A new console login; returns its id. A manager is bound to `venue_id`; other roles to no venue."""
    check_new_login(role, username, password, venue_id)
    password_hash = hash_password(password)
    with engine.begin() as conn:
        if venue_id is not None:
            admin.venue_row(conn, venue_id)
        taken = conn.execute(select(console_users.c.id).where(console_users.c.username == username)).first()
        if taken is not None:
            raise admin.Invalid(f"a console user named {username!r} exists already")
        values = {
            "username": username,
            "role": role,
            "venue_id": venue_id if role == "manager" else None,
            "password_hash": password_hash,
            "created_at": datetime.now(UTC),
        }
        key = conn.execute(insert(console_users).values(**values)).inserted_primary_key
        assert key is not None  # an INSERT of one row has a key
        return int(key[0])


def authenticate(conn: Connection, username: str, password: str) -> ConsoleUser | None:
    """The user with this name and password, or None (unknown, wrong password or disabled)."""
    if len(username) > MAX_USERNAME_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        return None
    row = conn.execute(
        select(console_users).where(console_users.c.username == username, console_users.c.disabled_at.is_(None))
    ).first()
    if row is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, row.password_hash):
        return None
    return ConsoleUser(row.id, row.username, row.role, row.venue_id)


def disable_console_user(engine: Engine, username: str, now: datetime) -> None:
    """The login stops working at once: its sessions end, its password no longer opens one."""
    with engine.begin() as conn:
        row = conn.execute(select(console_users.c.id).where(console_users.c.username == username)).first()
        if row is None:
            raise admin.NotFound(f"no console user named {username!r}")
        conn.execute(update(console_users).where(console_users.c.id == row.id).values(disabled_at=now))
        conn.execute(delete(console_sessions).where(console_sessions.c.user_id == row.id))


def login_lines(conn: Connection) -> list[str]:
    """`user logins`: one line per console login: id, name, role, venue, created, state."""
    lines = []
    for row in conn.execute(select(console_users).order_by(console_users.c.id)):
        venue = f"venue {row.venue_id}" if row.venue_id else "-"
        state = f"disabled {row.disabled_at.isoformat(timespec='seconds')}" if row.disabled_at else "active"
        created = row.created_at.isoformat(timespec="seconds")
        lines.append(f"{row.id}\t{row.username}\t{row.role}\t{venue}\tcreated {created}\t{state}")
    return lines
