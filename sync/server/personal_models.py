"""Tables of the personal-QR side of the server: private signing keys, persons, health declarations.

Public keys and their published status live in the server's `signing_keys` table (what GET /api/v1/keys
serves); the private halves live here and never leave the server. These tables are created on first use
(`ensure_schema`, idempotent) rather than by an Alembic revision, so that this module and the server's own
migrations can evolve independently; fold them into a revision when the schema settles.
"""

from __future__ import annotations

import threading

from sqlalchemy import Boolean, Column, Date, Engine, ForeignKey, Integer, MetaData, String, Table, Text, text

from sync.server.models import UTCDateTime

metadata = MetaData()

private_keys = Table(
    "signing_private_keys",
    metadata,
    Column("kid", String(64), primary_key=True),  # same kid as signing_keys
    Column("private_key", Text, nullable=False),  # base64 PKCS#8 DER, encrypted when a passphrase is configured
    Column("encrypted", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

persons = Table(
    "persons",
    metadata,
    Column("id", String(16), primary_key=True),  # what the QR carries; opaque, not derived from personal data
    Column("full_name", String(200), nullable=False),
    Column("id_number", String(20), index=True),  # CCCD / CMND, optional (children, foreigners)
    Column("date_of_birth", Date),
    Column("phone", String(20)),
    Column("created_at", UTCDateTime, nullable=False),
)

declarations = Table(
    "declarations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(16), ForeignKey("persons.id"), nullable=False, index=True),
    Column("declared_at", UTCDateTime, nullable=False),
    Column("answers", Text, nullable=False),  # JSON {question key: bool}
    Column("symptoms", Boolean, nullable=False),  # any "yes"
    Column("kid", String(64), nullable=False),
    Column("qr_expires_at", UTCDateTime, nullable=False),
)

_SCHEMA_LOCK_KEY = 7_264_190_312  # next to the server's migration lock id
_ready: set[str] = set()
_lock = threading.Lock()


def ensure_schema(engine: Engine) -> None:
    """Create the tables above when missing (cheap after the first call per engine)."""
    key = str(engine.url)
    with _lock:
        if key in _ready:
            return
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # several server workers may start at once: one creates
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
            metadata.create_all(conn, checkfirst=True)
        _ready.add(key)
