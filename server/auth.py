"""Bearer tokens: random, shown once, stored as sha256 (a 256-bit random token needs no slow hash)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, bindparam, or_, select, update

from server.models import tokens

ROLES = ("kiosk", "manager", "authority")
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: typed by people from a screen
LAST_USE_RESOLUTION = timedelta(minutes=1)  # `last_used_at` is written at most this often: reads stay reads
TOKEN_ID_LENGTH = 12  # a token's public id: the start of its hash (`kiosk-server user list / revoke --user`)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a kiosk (venue + kiosk), a venue manager (venue) or the health authority."""

    role: str
    venue_id: int | None = None
    kiosk_id: int | None = None
    token_id: str | None = None  # the token's public id (`user list`): who, in the audit log

    def may_manage(self, venue_id: int) -> bool:
        return self.role == "manager" and self.venue_id == venue_id

    def may_read_venue(self, venue_id: int) -> bool:
        return self.role == "authority" or self.may_manage(venue_id)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(role: str) -> str:
    """A fresh bearer token; the prefix tells a human which role a leaked token has."""
    return f"qrck_{role[:3]}_{secrets.token_urlsafe(32)}"


def new_enroll_code(length: int = 16) -> str:
    """A one-time enrolment code: 16 characters of a 30-letter alphabet, about 78 bits."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def token_id(token_hash: str) -> str:
    return token_hash[:TOKEN_ID_LENGTH]


# Built once, bound per request: built per request, SQLAlchemy spent ~0.2 ms of CPU on it (every request pays it).
_LIVE_TOKEN = select(tokens.c.role, tokens.c.venue_id, tokens.c.kiosk_id, tokens.c.last_used_at).where(
    tokens.c.token_hash == bindparam("token_hash"),
    tokens.c.revoked_at.is_(None),
    or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > bindparam("now", type_=tokens.c.expires_at.type)),
)


def principal_for(connection: Connection, token: str, now: datetime | None = None) -> Principal | None:
    """The principal a bearer token stands for, or None (unknown, revoked or expired). Notes the token's last
    use (at most once a minute); `connection` must be in a transaction for that (`engine.begin()`)."""
    if not token or len(token) > 200:
        return None
    now = now or datetime.now(UTC)
    token_hash = hash_secret(token)
    row = connection.execute(_LIVE_TOKEN, {"token_hash": token_hash, "now": now}).first()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USE_RESOLUTION:
        connection.execute(update(tokens).where(tokens.c.token_hash == token_hash).values(last_used_at=now))
    return Principal(role=row.role, venue_id=row.venue_id, kiosk_id=row.kiosk_id, token_id=token_id(token_hash))
