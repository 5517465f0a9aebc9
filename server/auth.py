"""Bearer tokens: random, shown once, stored as sha256 (a 256-bit random token needs no slow hash)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, select

from server.models import tokens

ROLES = ("kiosk", "manager", "authority")
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: typed by people from a screen


@dataclass(frozen=True)
class Principal:
    """Who is calling: a kiosk (venue + kiosk), a venue manager (venue) or the health authority."""

    role: str
    venue_id: int | None = None
    kiosk_id: int | None = None

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


def principal_for(connection: Connection, token: str) -> Principal | None:
    """The principal a bearer token stands for, or None (unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    row = connection.execute(
        select(tokens.c.role, tokens.c.venue_id, tokens.c.kiosk_id).where(
            tokens.c.token_hash == hash_secret(token), tokens.c.revoked_at.is_(None)
        )
    ).first()
    return Principal(role=row.role, venue_id=row.venue_id, kiosk_id=row.kiosk_id) if row else None
