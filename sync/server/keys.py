"""Personal-QR signing keys on the central server: generate, rotate, retire, sign. Private keys never leave it.

Published statuses (in `signing_keys`, served by GET /api/v1/keys, words of `sync.protocol.PublicKeyInfo`):
- "active": signs new codes (exactly one at a time after `rotate`) and verifies;
- "retired": no longer signs, still verifies: codes issued before a rotation stay valid;
- "revoked": what `retire_key` sets: kiosks stop accepting its codes (it also goes on the revocation list).
Private keys are PKCS#8, encrypted with QRCK_SIGNING_KEY_PASSPHRASE when that variable is set.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_der_private_key,
)
from sqlalchemy import Engine, insert, select, update

from sync.server import admin
from sync.server.models import signing_keys
from sync.server.personal_models import ensure_schema, private_keys

PASSPHRASE_ENV = "QRCK_SIGNING_KEY_PASSPHRASE"
_KID_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # QR alphanumeric-friendly, no look-alikes


class NoSigningKey(LookupError):
    """No active key with a private half on this server: run `kiosk-server keys generate`."""


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    alg: str
    status: str
    created_at: datetime
    has_private_key: bool


def _now() -> datetime:
    return datetime.now(UTC)


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV, "")
    return value.encode() if value else None


def new_kid(now: datetime) -> str:
    """Short (11 characters: the QR carries it), sortable by date, unique by its random tail."""
    return "K" + now.strftime("%y%m%d") + "".join(secrets.choice(_KID_ALPHABET) for _ in range(4))


def _store_key(engine: Engine, key: ed25519.Ed25519PrivateKey, status: str) -> str:
    now = _now()
    kid = new_kid(now)
    passphrase = _passphrase()
    encryption = BestAvailableEncryption(passphrase) if passphrase else NoEncryption()
    private_der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, encryption)
    public_raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with engine.begin() as conn:
        conn.execute(insert(signing_keys).values(kid=kid, alg="Ed25519", public_key=base64.b64encode(public_raw).decode(),
                                                 status=status, created_at=now))
        conn.execute(insert(private_keys).values(kid=kid, private_key=base64.b64encode(private_der).decode(),
                                                 encrypted=passphrase is not None, created_at=now))
    return kid


def _active_kids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(signing_keys.c.kid).where(signing_keys.c.status == "active")))


def generate_key(engine: Engine) -> str:
    """A first signing key; refuses when one is already active (that is what `rotate_key` is for)."""
    ensure_schema(engine)
    if _active_kids(engine):
        raise admin.Invalid("an active signing key exists already: use `keys rotate` to replace it")
    return _store_key(engine, ed25519.Ed25519PrivateKey.generate(), "active")


def rotate_key(engine: Engine) -> str:
    """A new active key; the previous active keys become "retired" (verify only, their codes stay valid)."""
    ensure_schema(engine)
    previous = _active_kids(engine)
    kid = _store_key(engine, ed25519.Ed25519PrivateKey.generate(), "active")
    if previous:
        with engine.begin() as conn:
            conn.execute(update(signing_keys).where(signing_keys.c.kid.in_(previous)).values(status="retired"))
    return kid


def retire_key(engine: Engine, kid: str) -> None:
    """Withdraw a key: published as "revoked" and on the revocation list; kiosks stop accepting its codes."""
    ensure_schema(engine)
    with engine.begin() as conn:
        found = conn.execute(update(signing_keys).where(signing_keys.c.kid == kid).values(status="revoked")).rowcount
    if not found:
        raise admin.NotFound(f"no signing key {kid!r}")
    admin.add_revocation(engine, "key", kid)


def list_keys(engine: Engine) -> list[KeyInfo]:
    ensure_schema(engine)
    with engine.connect() as conn:
        held = set(conn.scalars(select(private_keys.c.kid)))
        rows = conn.execute(select(signing_keys).order_by(signing_keys.c.created_at, signing_keys.c.kid)).all()
    return [KeyInfo(r.kid, r.alg, r.status, r.created_at, r.kid in held) for r in rows]


def active_signer(engine: Engine) -> tuple[str, ed25519.Ed25519PrivateKey]:
    """(kid, private key) of the newest active key this server holds; NoSigningKey when there is none."""
    ensure_schema(engine)
    with engine.connect() as conn:
        row = conn.execute(
            select(private_keys.c.kid, private_keys.c.private_key, private_keys.c.encrypted)
            .join(signing_keys, signing_keys.c.kid == private_keys.c.kid)
            .where(signing_keys.c.status == "active")
            .order_by(signing_keys.c.created_at.desc())
        ).first()
    if row is None:
        raise NoSigningKey("no active signing key: run `kiosk-server keys generate`")
    password = _passphrase() if row.encrypted else None
    if row.encrypted and password is None:
        raise NoSigningKey(f"signing key {row.kid} is encrypted: set {PASSPHRASE_ENV}")
    try:
        key = load_der_private_key(base64.b64decode(row.private_key), password=password)
    except (ValueError, TypeError):
        raise NoSigningKey(f"signing key {row.kid} cannot be decrypted: check {PASSPHRASE_ENV}") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise NoSigningKey(f"signing key {row.kid} is not Ed25519")
    return row.kid, key
