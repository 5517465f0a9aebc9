"""What every credential parser returns: a Credential, or a Rejection that says why."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Verification:
    """Outcome of checking a signed credential offline (None fields: not applicable to this format)."""

    signature: str | None = None  # "valid", "invalid" or "unknown_key"
    expired: bool | None = None
    key_usage: str | None = None  # DCC only: "ok", "mismatch" or "not_restricted"
    revoked: bool | None = None
    signer: str | None = None  # key id, printable


@dataclass(frozen=True)
class Credential:
    """A parsed code. Names and addresses are kept exactly as encoded (diacritics and all)."""

    kind: str  # "cccd", "pccovid", "personal", "dcc" or "unknown" (opaque id accepted by policy)
    id_number: str
    full_name: str = ""
    date_of_birth: date | None = None
    sex: str | None = None  # "M", "F" or None
    fields: dict[str, Any] = field(default_factory=dict)  # further parsed fields, JSON-safe values only
    warnings: tuple[str, ...] = ()  # e.g. "id_mismatch": shown to the guard, does not reject by itself
    verification: Verification | None = None  # signed formats only
    expires_at: datetime | None = None
    declaration: Declaration | None = None
    key: str = ""  # who this is when the ID number cannot tell (e.g. a masked number); "" : the ID number

    @property
    def person_key(self) -> str:
        """Who this is, for duplicate and in/out tracking: the ID number (any format carrying it) unless the
        format gave a better key."""
        return self.key or self.id_number


@dataclass(frozen=True)
class Declaration:
    """A health declaration carried by a credential (our signed personal QR)."""

    declared_at: datetime
    symptoms: bool  # any "yes" in the questionnaire


@dataclass(frozen=True)
class Rejection:
    """A payload that could not be accepted as a credential. `code` is stable; `reason` is for a person."""

    kind: str  # the format it looked like, or "unknown"
    code: str  # e.g. "malformed", "unknown_format", "bad_signature", "expired", "revoked", "unknown_key"
    reason: str
    id_number: str = ""  # when the payload revealed one (for logs and the guard), else empty
    full_name: str = ""


ParseResult = Credential | Rejection


@dataclass(frozen=True)
class TrustMaterial:
    """What offline verification needs, synced from the central server and cached by the kiosk.

    Each format reads only its own part; a format with nothing here treats every key as unknown.
    """

    personal_keys: dict[str, Any] = field(default_factory=dict)  # key id -> public key object
    revoked_personal_ids: frozenset[str] = frozenset()
    dcc_certificates: dict[bytes, list[Any]] = field(default_factory=dict)  # kid -> [x509.Certificate]
    fetched_at: datetime | None = None
    revoked_personal_kids: frozenset[str] = frozenset()  # personal-QR signing keys withdrawn (codes no longer valid)


@dataclass(frozen=True)
class ParseContext:
    """The moment of the scan and the trust material to verify against."""

    now: datetime
    trust: TrustMaterial = field(default_factory=TrustMaterial)


class CredentialFormat(Protocol):
    """One QR format. `sniff` is cheap (a prefix or a shape); `parse` does the work and never raises."""

    kind: str

    def sniff(self, data: bytes) -> bool: ...

    def parse(self, data: bytes, context: ParseContext) -> ParseResult: ...


def payload_digest(data: bytes) -> str:
    """A stable short identifier of an opaque payload (never the payload itself: it may be personal)."""
    return hashlib.sha256(data).hexdigest()[:16]
