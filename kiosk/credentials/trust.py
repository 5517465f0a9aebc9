"""Loading what offline verification trusts: DCC signer certificates, our personal-QR keys, revocations.

The files are the central server's answers, cached by the kiosk (see `sync.protocol`):
- trust list: `{"certificates": [{"kid": "<base64>", "certificate": "<base64 DER>"}]}`
- personal keys: `{"keys": [{"kid": "...", "alg": "Ed25519", "public_key": "<base64 raw or SPKI DER>",
  "status": "active"}]}`; "active" signs and verifies, "retired" and "verify_only" verify only (codes signed
  before a rotation stay valid), "revoked" verifies nothing.
- revocations: `{"revocations": [{"kind": "person" | "key", "value": "...", "revoked_at": ...}]}`

A bad entry is skipped with a warning (one broken certificate must not disable all the others); a file that
is not JSON at all raises TrustFileError with a one-line message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from kiosk.credentials.base import TrustMaterial

logger = logging.getLogger(__name__)

VERIFYING_STATUSES = frozenset({"active", "retired", "verify_only"})


class TrustFileError(ValueError):
    """A trust file that cannot be read at all."""


def _read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise TrustFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise TrustFileError(f"{path}: not valid JSON ({exc})") from None


def _b64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("not a base64 string")
    text = value.strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def certificate_kid(der: bytes) -> bytes:
    """The DCC key id of a signer certificate: the first 8 bytes of SHA-256 of its DER."""
    return hashlib.sha256(der).digest()[:8]


# --- DCC trust list ---------------------------------------------------------------------------------------------


def parse_trust_list(obj: Any) -> dict[bytes, list[x509.Certificate]]:
    """kid -> signer certificates, from a trust-list JSON object; bad entries skipped with a warning."""
    entries = obj.get("certificates") if isinstance(obj, Mapping) else None
    if not isinstance(entries, list):
        logger.warning("trust list has no 'certificates' list; nothing trusted")
        return {}
    found: dict[bytes, list[x509.Certificate]] = {}
    for index, entry in enumerate(entries):
        try:
            kid, cert = _trust_entry(entry)
        except ValueError as exc:
            logger.warning("trust list entry %d skipped: %s", index, exc)
            continue
        found.setdefault(kid, []).append(cert)
    return found


def load_signer_certificate(der: bytes) -> x509.Certificate:
    """A signer certificate as issuers make them. `cryptography` reads strict DER only; a certificate in BER
    (an explicit default, a long-form length) is read with asn1crypto, as reference verifiers read it, and
    re-encoded as DER: only its key, validity and extensions are used here (its own chain is the trust
    list's business), so the re-encoding loses nothing that matters. ValueError when it is no certificate."""
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]

        try:
            lenient = asn1_x509.Certificate.load(der)
            strict = lenient.dump(force=True)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a certificate: {exc}") from None
        return x509.load_der_x509_certificate(strict)


def _trust_entry(entry: Any) -> tuple[bytes, x509.Certificate]:
    if not isinstance(entry, Mapping):
        raise ValueError("not an object")
    der = _b64(entry.get("certificate"))
    cert = load_signer_certificate(der)  # ValueError when it is not a certificate
    kid = _b64(entry["kid"]) if entry.get("kid") else certificate_kid(der)
    if not kid:
        raise ValueError("empty kid")
    if kid != certificate_kid(der):
        # Some national lists use their own kids; trust the list's, but say so (it usually means a mistake).
        logger.info("trust list kid %s differs from the certificate's digest", base64.b64encode(kid).decode())
    return kid, cert


def load_trust_list(path: str | Path, fetched_at: datetime | None = None) -> TrustMaterial:
    """A trust-list file -> TrustMaterial holding its DCC signer certificates."""
    return TrustMaterial(dcc_certificates=parse_trust_list(_read_json(path)), fetched_at=fetched_at)


# --- personal-QR keys -------------------------------------------------------------------------------------------


def parse_public_key(alg: Any, text: Any) -> Any:
    """A public key from base64 raw Ed25519 (32 bytes), base64 SPKI DER, or PEM; ValueError otherwise."""
    if isinstance(text, str) and text.lstrip().startswith("-----BEGIN"):
        key = load_pem_public_key(text.encode("ascii"))
    else:
        raw = _b64(text)
        key = ed25519.Ed25519PublicKey.from_public_bytes(raw) if len(raw) == 32 else load_der_public_key(raw)
    if alg in ("Ed25519", "EdDSA") and not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError(f"alg {alg} but the key is not Ed25519")
    if alg == "ES256" and not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("alg ES256 but the key is not EC")
    if not isinstance(key, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)):
        raise ValueError("unsupported key type")
    return key


def parse_personal_keys(obj: Any) -> dict[str, Any]:
    """kid -> public key for every key that may verify (status active, retired or verify_only)."""
    entries = obj.get("keys") if isinstance(obj, Mapping) else None
    if not isinstance(entries, list):
        logger.warning("personal keys answer has no 'keys' list; no personal QR will verify")
        return {}
    keys: dict[str, Any] = {}
    for index, entry in enumerate(entries):
        try:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("kid"), str) or not entry["kid"]:
                raise ValueError("missing kid")
            if str(entry.get("status", "active")) not in VERIFYING_STATUSES:
                continue
            keys[entry["kid"]] = parse_public_key(entry.get("alg"), entry.get("public_key"))
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("personal key entry %d skipped: %s", index, exc)
    return keys


def load_personal_keys(path: str | Path, fetched_at: datetime | None = None) -> TrustMaterial:
    return TrustMaterial(personal_keys=parse_personal_keys(_read_json(path)), fetched_at=fetched_at)


# --- revocations ------------------------------------------------------------------------------------------------


def parse_revocations(obj: Any) -> tuple[frozenset[str], frozenset[str]]:
    """(revoked person ids, revoked key ids); plain strings in the list are person ids."""
    entries = obj.get("revocations") if isinstance(obj, Mapping) else obj
    if not isinstance(entries, list):
        logger.warning("revocations answer has no 'revocations' list")
        return frozenset(), frozenset()
    people: set[str] = set()
    keys: set[str] = set()
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            people.add(entry)
        elif isinstance(entry, Mapping) and isinstance(entry.get("value"), str):
            (keys if entry.get("kind") == "key" else people).add(entry["value"])
        else:
            logger.warning("revocation entry %d skipped: not a string or {kind, value}", index)
    return frozenset(people), frozenset(keys)


def load_revocations(path: str | Path, fetched_at: datetime | None = None) -> TrustMaterial:
    """Revoked person ids and revoked personal-QR key ids as TrustMaterial."""
    people, keys = parse_revocations(_read_json(path))
    return TrustMaterial(revoked_personal_ids=people, revoked_personal_kids=keys, fetched_at=fetched_at)


def merge(*materials: TrustMaterial) -> TrustMaterial:
    """Everything every material trusts, minus revoked keys; `fetched_at` is the oldest (the staleness shown)."""
    keys: dict[str, Any] = {}
    certs: dict[bytes, list[Any]] = {}
    revoked_people: set[str] = set()
    revoked_kids: set[str] = set()
    for material in materials:
        keys.update(material.personal_keys)
        revoked_people |= material.revoked_personal_ids
        revoked_kids |= material.revoked_personal_kids
        for kid, found in material.dcc_certificates.items():
            merged = certs.setdefault(kid, [])
            merged.extend(cert for cert in found if cert not in merged)
    usable = {kid: key for kid, key in keys.items() if kid not in revoked_kids}
    times = [m.fetched_at for m in materials if m.fetched_at is not None]
    return TrustMaterial(
        personal_keys=usable,
        revoked_personal_ids=frozenset(revoked_people),
        dcc_certificates=certs,
        fetched_at=min(times) if times else None,
        revoked_personal_kids=frozenset(revoked_kids),
    )
