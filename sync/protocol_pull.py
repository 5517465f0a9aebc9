"""The wire formats of what a kiosk pulls from the central server, and of enrolment (shared by both ends).

GET `CONFIG_PATH` -> `RemoteConfig`; `KEYS_PATH` -> `PublicKeyInfo`s; `REVOCATIONS_PATH` -> `Revocation`s;
`TRUST_LIST_PATH` -> `TrustedCertificate`s; `TIME_PATH` -> the server's time; POST `ENROLL_PATH` ->
`EnrollResponse`. The events and batches, and the paths, are in `sync.protocol`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kiosk.vocabulary import CredentialKind, QuestionnairePolicy, StationMode, words
from sync.protocol import ProtocolError, _field, _load_json, _parse_date, format_time, parse_wire_time

ENROLL_QR_PREFIX = "QRCK-ENROLL:"


# --- enrolment ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrollResponse:
    token: str
    kiosk_id: str
    venue_id: str
    server_time: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "kiosk_id": self.kiosk_id,
            "venue_id": self.venue_id,
            "server_time": format_time(self.server_time),
        }

    @classmethod
    def from_json(cls, obj: Any) -> EnrollResponse:
        obj = _load_json(obj)
        if not isinstance(obj, Mapping):
            raise ProtocolError("enroll: expected an object")
        return cls(
            token=_field(obj, "token", str, "enroll"),
            kiosk_id=str(_field(obj, "kiosk_id", (str, int), "enroll")),
            venue_id=str(_field(obj, "venue_id", (str, int), "enroll")),
            server_time=parse_wire_time(obj.get("server_time"), "enroll.server_time"),
        )


def enroll_request(code: str) -> dict[str, Any]:
    return {"code": normalise_code(code)}


def normalise_code(code: str) -> str:
    """Enrolment codes are typed by people: ignore case, spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def enrollment_qr_payload(code: str, server_url: str | None = None) -> str:
    """Text of the enrolment QR: `QRCK-ENROLL:<code>` or `QRCK-ENROLL:<code>@<server url>`."""
    return f"{ENROLL_QR_PREFIX}{code}" + (f"@{server_url}" if server_url else "")


def parse_enrollment_qr(text: str | bytes) -> tuple[str, str | None] | None:
    """(code, server url or None) from an enrolment QR's text; None when it is not one."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.strip()
    if not text.startswith(ENROLL_QR_PREFIX):
        return None
    code, _, url = text[len(ENROLL_QR_PREFIX) :].partition("@")
    return (normalise_code(code), url or None) if code else None


# --- pulled configuration and trust material ------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteConfig:
    """The kiosk's station configuration as the server holds it (GET /config)."""

    venue_id: str
    venue_name: str
    kiosk_id: str
    mode: StationMode = StationMode.AUTO
    capacity: int | None = None  # None: no limit
    cooldown_seconds: int = 60
    accepted_credentials: tuple[str, ...] = words(CredentialKind)
    questionnaire_policy: QuestionnairePolicy = QuestionnairePolicy.ASSISTED
    safety_level: str | None = None  # one of SAFETY_LEVELS, None when not assessed
    safety_assessed_on: date | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # station settings this version does not name

    def to_json(self) -> dict[str, Any]:
        return {
            "venue_id": self.venue_id,
            "venue_name": self.venue_name,
            "kiosk_id": self.kiosk_id,
            "mode": self.mode,
            "capacity": self.capacity,
            "cooldown_seconds": self.cooldown_seconds,
            "accepted_credentials": list(self.accepted_credentials),
            "questionnaire_policy": self.questionnaire_policy,
            "safety": {
                "level": self.safety_level,
                "assessed_on": self.safety_assessed_on.isoformat() if self.safety_assessed_on else None,
            },
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, obj: Any) -> RemoteConfig:
        obj = _load_json(obj)
        if not isinstance(obj, Mapping):
            raise ProtocolError("config: expected an object")
        safety = obj.get("safety") or {}
        capacity = obj.get("capacity")
        return cls(
            venue_id=str(obj.get("venue_id", "")),
            venue_name=str(obj.get("venue_name", "")),
            kiosk_id=str(obj.get("kiosk_id", "")),
            mode=StationMode(str(obj.get("mode", StationMode.AUTO))),
            capacity=int(capacity) if capacity is not None else None,
            cooldown_seconds=int(obj.get("cooldown_seconds", 60)),
            accepted_credentials=tuple(obj.get("accepted_credentials") or ()),
            questionnaire_policy=QuestionnairePolicy.parse(obj.get("questionnaire_policy", "assisted")),
            safety_level=safety.get("level"),
            safety_assessed_on=_parse_date(safety.get("assessed_on"), "config.safety.assessed_on"),
            extra=dict(obj.get("extra") or {}),
        )


@dataclass(frozen=True)
class PublicKeyInfo:
    """A key that signs our personal QRs. `public_key` is base64 of the raw key (Ed25519) or SPKI DER."""

    kid: str
    alg: str  # "Ed25519" or "ES256"
    public_key: str
    status: str = "active"  # "active" (signs and verifies) or "retired" (verifies only) or "revoked"

    def to_json(self) -> dict[str, Any]:
        return {"kid": self.kid, "alg": self.alg, "public_key": self.public_key, "status": self.status}


def keys_from_json(obj: Any) -> list[PublicKeyInfo]:
    obj = _load_json(obj)
    return [
        PublicKeyInfo(kid=k["kid"], alg=k["alg"], public_key=k["public_key"], status=k.get("status", "active"))
        for k in (obj.get("keys") or [])
    ]


@dataclass(frozen=True)
class Revocation:
    """A revoked personal QR (`kind` "person": a person id) or signing key (`kind` "key": a kid)."""

    kind: str
    value: str
    revoked_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "revoked_at": format_time(self.revoked_at) if self.revoked_at else None,
        }


def revocations_from_json(obj: Any) -> list[Revocation]:
    obj = _load_json(obj)
    return [
        Revocation(
            kind=r["kind"],
            value=r["value"],
            revoked_at=parse_wire_time(r["revoked_at"]) if r.get("revoked_at") else None,
        )
        for r in (obj.get("revocations") or [])
    ]


@dataclass(frozen=True)
class TrustedCertificate:
    """An EU DCC signer: `kid` base64 (first 8 bytes of SHA-256 of the DER), `certificate` base64 DER."""

    kid: str
    certificate: str

    def to_json(self) -> dict[str, Any]:
        return {"kid": self.kid, "certificate": self.certificate}


def trust_list_from_json(obj: Any) -> list[TrustedCertificate]:
    obj = _load_json(obj)
    return [TrustedCertificate(kid=c["kid"], certificate=c["certificate"]) for c in (obj.get("certificates") or [])]


def server_time_from_json(obj: Any) -> datetime:
    """GET /time answer -> the server's clock."""
    obj = _load_json(obj)
    return parse_wire_time(obj.get("server_time") if isinstance(obj, Mapping) else None, "server_time")
