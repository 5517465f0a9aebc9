"""Personal-QR signing keys on the central server: generate, rotate, retire, import, sign.

One table, `signing_keys`: what GET /api/v1/keys publishes (kid, alg, public key, status: `admin.list_keys`)
and, for keys generated here, the private half, which never leaves the server. Statuses (the words of
`sync.protocol_pull.PublicKeyInfo`):
- "active": signs new codes (exactly one key held here after `rotate`) and verifies;
- "retired": no longer signs, still verifies: codes issued before a rotation stay valid;
- "revoked": what `retire_key` sets: kiosks stop accepting its codes (it also goes on the revocation list).
Private keys are PKCS#8, encrypted with QRCK_SIGNING_KEY_PASSPHRASE when that variable is set. A key imported
with `import_public_key` (signed elsewhere, e.g. by an offline signer) is published but never signs here.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import UnsupportedAlgorithm
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

from kiosk.credentials.trust import parse_public_key
from server import admin
from server.models import signing_keys

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


def _store_key(engine: Engine, key: ed25519.Ed25519PrivateKey) -> str:
    """Insert a new active key with its private half; returns its kid."""
    now = _now()
    kid = new_kid(now)
    passphrase = _passphrase()
    encryption = BestAvailableEncryption(passphrase) if passphrase else NoEncryption()
    private_der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, encryption)
    public_raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with engine.begin() as conn:
        conn.execute(
            insert(signing_keys).values(
                kid=kid,
                alg="Ed25519",
                public_key=base64.b64encode(public_raw).decode(),
                status="active",
                created_at=now,
                private_key=base64.b64encode(private_der).decode(),
                encrypted=passphrase is not None,
            )
        )
    return kid


_HELD_ACTIVE = (signing_keys.c.status == "active") & signing_keys.c.private_key.is_not(None)


def _active_kids(engine: Engine) -> list[str]:
    """Active keys this server signs with (imported public keys are managed by whoever holds their private half)."""
    with engine.connect() as conn:
        return list(conn.scalars(select(signing_keys.c.kid).where(_HELD_ACTIVE)))


def generate_key(engine: Engine) -> str:
    """A first signing key; refuses when one is already active (that is what `rotate_key` is for)."""
    if _active_kids(engine):
        raise admin.Invalid("an active signing key exists already: use `keys rotate` to replace it")
    return _store_key(engine, ed25519.Ed25519PrivateKey.generate())


def rotate_key(engine: Engine) -> str:
    """A new active key; the previous active keys become "retired" (verify only, their codes stay valid)."""
    previous = _active_kids(engine)
    kid = _store_key(engine, ed25519.Ed25519PrivateKey.generate())
    if previous:
        with engine.begin() as conn:
            conn.execute(update(signing_keys).where(signing_keys.c.kid.in_(previous)).values(status="retired"))
    return kid


def retire_key(engine: Engine, kid: str) -> None:
    """Withdraw a key: published as "revoked" and on the revocation list; kiosks stop accepting its codes."""
    admin.add_revocation(engine, "key", kid)


def import_public_key(engine: Engine, kid: str, alg: str, public_key: str, status: str = "active") -> None:
    """Publish a public key whose private half lives elsewhere (an offline signer): kiosks verify its codes."""
    if not 1 <= len(kid) <= 64 or not kid.isprintable():
        raise admin.Invalid("kid: 1 to 64 printable characters")
    if alg not in ("Ed25519", "ES256"):
        raise admin.Invalid("alg must be Ed25519 or ES256")
    if status not in ("active", "retired", "revoked"):
        raise admin.Invalid("status must be active, retired or revoked")
    try:
        parse_public_key(alg, public_key)  # what a kiosk will do with it: refuse now rather than there
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise admin.Invalid(f"public key: {exc}") from None
    with engine.begin() as conn:
        if conn.execute(select(signing_keys.c.kid).where(signing_keys.c.kid == kid)).first() is not None:
            raise admin.Invalid(f"a key {kid!r} exists already")
        conn.execute(
            insert(signing_keys).values(kid=kid, alg=alg, public_key=public_key, status=status, created_at=_now())
        )
    if status == "revoked":
        admin.add_revocation(engine, "key", kid)


def list_keys(engine: Engine) -> list[KeyInfo]:
    """Every key for the operator (`keys list`), oldest first; kiosks get `admin.list_keys` (public fields only)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                signing_keys.c.kid,
                signing_keys.c.alg,
                signing_keys.c.status,
                signing_keys.c.created_at,
                signing_keys.c.private_key.is_not(None).label("held"),
            ).order_by(signing_keys.c.created_at, signing_keys.c.kid)
        ).all()
    return [KeyInfo(r.kid, r.alg, r.status, r.created_at, bool(r.held)) for r in rows]


def active_signer(engine: Engine) -> tuple[str, ed25519.Ed25519PrivateKey]:
    """(kid, private key) of the newest active key this server holds; NoSigningKey when there is none."""
    with engine.connect() as conn:
        row = conn.execute(
            select(signing_keys.c.kid, signing_keys.c.private_key, signing_keys.c.encrypted)
            .where(_HELD_ACTIVE)
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


def ensure_signing_key(engine: Engine) -> str | None:
    """A first start's signing key (the declaration page signs with it): its kid when one was made now, None
    when the server has one already, or an active key whose private half is held elsewhere (imported)."""
    try:
        active_signer(engine)
        return None
    except NoSigningKey:
        pass
    try:
        return generate_key(engine)
    except admin.Invalid:
        return None
