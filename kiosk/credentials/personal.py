"""Our signed personal QR (`QC1:`), verified offline against the keys the central server publishes.

Wire format, version 1 (kept small so a cheap webcam reads it from a phone at arm's length):
  "QC1:" + base45( CBOR [ body: bstr, signature: bstr ] )
  body = CBOR [ 1, kid: tstr, person id: tstr, display name: tstr, expires: uint (epoch s),
                declared at: uint | null, symptoms: bool | null ]
  signature = Ed25519 (or ECDSA P-256/SHA-256 as raw r||s) over b"QC1\\0" + body
The body is signed as transmitted (no re-encoding), so one flipped bit anywhere fails the signature or the
decoding. `parse` returns a Credential with `verification` filled whenever the structure decodes (a forged
code still shows why it is refused); the station rejects through `kiosk.credentials.verdict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from kiosk.credentials.base import (
    Credential,
    Declaration,
    ParseContext,
    ParseResult,
    Rejection,
    TrustMaterial,
    Verification,
)
from kiosk.credentials.base45 import Base45Error, b45decode
from kiosk.credentials.personal_sign import MAX_ID_CHARS, MAX_KID_CHARS, PREFIX, SIGNING_CONTEXT, VERSION
from kiosk.credentials.text import clean_field

KIND = "personal"
MAX_TEXT_CHARS = 400  # far above what the issuer writes; refuses blobs before any work


class PersonalQrError(ValueError):
    """The code is not a well-formed personal QR."""


def _unwrap(data: bytes) -> tuple[bytes, bytes]:
    """(body, signature) from the QR bytes."""
    text = data.strip()
    if not text.startswith(PREFIX.encode("ascii")):
        raise PersonalQrError(f"does not start with {PREFIX}")
    if len(text) > MAX_TEXT_CHARS:
        raise PersonalQrError("too long for a personal QR")
    try:
        outer = cbor2.loads(b45decode(text[len(PREFIX) :]))
    except Base45Error as exc:
        raise PersonalQrError(f"invalid base45: {exc}") from None
    except Exception:  # cbor2 raises several types on bad input
        raise PersonalQrError("not CBOR") from None
    if not isinstance(outer, Sequence) or len(outer) != 2 or not all(isinstance(p, bytes) for p in outer):
        raise PersonalQrError("expected [body, signature]")
    return outer[0], outer[1]


def _decode_body(body: bytes) -> list[Any]:
    try:
        fields = cbor2.loads(body)
    except Exception:
        raise PersonalQrError("body is not CBOR") from None
    if not isinstance(fields, Sequence) or isinstance(fields, (str, bytes)) or len(fields) < 7:
        raise PersonalQrError("body must be an array of 7 items")
    if fields[0] != VERSION:
        raise PersonalQrError(f"unsupported version {fields[0]!r}")
    kid, person_id, name, expires, declared, symptoms = fields[1:7]
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_CHARS:
        raise PersonalQrError("bad key id")
    if not isinstance(person_id, str) or not 0 < len(person_id) <= MAX_ID_CHARS:
        raise PersonalQrError("bad person id")
    if not isinstance(name, str):
        raise PersonalQrError("bad name")
    if not _is_epoch(expires) or not (declared is None or _is_epoch(declared)):
        raise PersonalQrError("bad time")
    if not (symptoms is None or isinstance(symptoms, bool)) or (declared is None) != (symptoms is None):
        raise PersonalQrError("bad declaration")
    return list(fields[:7])


def _is_epoch(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**40


def _to_time(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def signature_valid(public_key: Any, body: bytes, signature: bytes) -> bool:
    message = SIGNING_CONTEXT + body
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, message)
            return True
        if isinstance(public_key, ec.EllipticCurvePublicKey) and len(signature) == 64:
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


def verify(
    kid: str, person_id: str, expires_at: datetime, body: bytes, signature: bytes, trust: TrustMaterial, now: datetime
) -> Verification:
    key = None if kid in trust.revoked_personal_kids else trust.personal_keys.get(kid)
    if key is None:
        status = "unknown_key"
    else:
        status = "valid" if signature_valid(key, body, signature) else "invalid"
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return Verification(
        signature=status, expired=now >= expires_at, revoked=person_id in trust.revoked_personal_ids, signer=kid
    )


def parse_personal(data: bytes, context: ParseContext) -> ParseResult:
    try:
        body, signature = _unwrap(data)
        _, kid, person_id, name, expires, declared, symptoms = _decode_body(body)
    except PersonalQrError as exc:
        return Rejection(kind=KIND, code="malformed", reason=f"Not a readable personal QR ({exc})")
    expires_at = _to_time(expires)
    declaration = Declaration(_to_time(declared), symptoms) if declared is not None else None
    shown = clean_field(name, 200)  # our server refuses such names; a forged code may still carry them
    return Credential(
        kind=KIND,
        id_number=person_id,
        full_name=shown.text,
        warnings=("unsafe_text",) if shown.had_unsafe else (),
        fields={"kid": kid, "version": VERSION, "expires_at": expires_at.isoformat()},
        verification=verify(kid, person_id, expires_at, body, signature, context.trust, context.now),
        expires_at=expires_at,
        declaration=declaration,
    )


class PersonalFormat:
    """The `QC1:` format for the credential registry."""

    kind = KIND

    def sniff(self, data: bytes) -> bool:
        return data.lstrip()[: len(PREFIX)] == PREFIX.encode("ascii")

    def parse(self, data: bytes, context: ParseContext) -> ParseResult:
        return parse_personal(data, context)


FORMAT = PersonalFormat()
