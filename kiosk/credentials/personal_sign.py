"""Issuing our signed personal QR (format: see `kiosk.credentials.personal`). Pure functions, no I/O.

The central server calls these with its private keys (which never leave it); tests call them with throwaway keys.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from kiosk.credentials.base45 import b45encode

PREFIX = "QC1:"
VERSION = 1
SIGNING_CONTEXT = b"QC1\x00"  # signed before the body, so a signature over another format's bytes never fits
MAX_NAME_BYTES = 100
# QR version 10 at error correction M holds 311 alphanumeric characters: the code must fit, so a very long
# name is shortened (at a word boundary) until it does. The full name stays on the server.
MAX_QR_CHARS = 311
MAX_ID_CHARS = 40
MAX_KID_CHARS = 16


def fit_name(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """NFC (composed Vietnamese letters are shorter), single spaces, whole words while they fit in max_bytes."""
    words = unicodedata.normalize("NFC", name).split()
    text = ""
    for word in words:
        candidate = f"{text} {word}" if text else word
        if len(candidate.encode("utf-8")) > max_bytes:
            break
        text = candidate
    if not text and words:  # a single enormous "word": cut it at a character boundary
        text = words[0]
        while len(text.encode("utf-8")) > max_bytes:
            text = text[:-1]
    return text


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: attach a timezone")
    return int(moment.astimezone(UTC).timestamp())


def encode_body(
    kid: str,
    person_id: str,
    display_name: str,
    expires_at: datetime,
    declared_at: datetime | None = None,
    symptoms: bool | None = None,
) -> bytes:
    """The signed CBOR body: [version, kid, person id, name, expiry, declared at, symptoms] (times in epoch s)."""
    if not kid or len(kid) > MAX_KID_CHARS:
        raise ValueError(f"kid must be 1..{MAX_KID_CHARS} characters")
    if not person_id or len(person_id) > MAX_ID_CHARS:
        raise ValueError(f"person id must be 1..{MAX_ID_CHARS} characters")
    if (declared_at is None) != (symptoms is None):
        raise ValueError("declared_at and symptoms go together")
    return cbor2.dumps(
        [
            VERSION,
            kid,
            person_id,
            fit_name(display_name),
            _epoch(expires_at),
            _epoch(declared_at) if declared_at is not None else None,
            bool(symptoms) if symptoms is not None else None,
        ]
    )


def sign_body(private_key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey, body: bytes) -> bytes:
    """Ed25519 (64 bytes) or ECDSA P-256 with SHA-256 as raw r||s (64 bytes) over context + body."""
    message = SIGNING_CONTEXT + body
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(message)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(private_key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    raise TypeError("signing key must be Ed25519 or EC P-256")


def issue_personal_qr(
    private_key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey,
    kid: str,
    person_id: str,
    display_name: str,
    expires_at: datetime,
    declared_at: datetime | None = None,
    symptoms: bool | None = None,
) -> str:
    """The QR text: "QC1:" + base45(CBOR [body bytes, signature]); all characters in QR alphanumeric mode."""
    budget = MAX_NAME_BYTES
    while True:
        name = fit_name(display_name, budget)
        body = encode_body(kid, person_id, name, expires_at, declared_at, symptoms)
        # Ed25519 and raw ECDSA signatures are both 64 bytes, so the length is known before signing.
        if len(PREFIX + b45encode(cbor2.dumps([body, bytes(64)]))) <= MAX_QR_CHARS or not name:
            return PREFIX + b45encode(cbor2.dumps([body, sign_body(private_key, body)]))
        budget = len(name.encode("utf-8")) - 1
