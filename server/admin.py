"""Operations on venues, kiosks, users and trust material: shared by the CLI and the API."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from kiosk.csvsafe import EVENT_HEADER
from server import station_settings
from server.auth import ROLES, hash_secret, new_enroll_code, new_token
from server.models import events, kiosks, revocations, signing_keys, tokens, trusted_certificates, venues
from sync.protocol import SAFETY_LEVELS
from sync.protocol_pull import (
    EnrollResponse,
    PublicKeyInfo,
    RemoteConfig,
    Revocation,
    TrustedCertificate,
    normalise_code,
)

ENROLL_CODE_TTL = timedelta(days=7)


class NotFound(LookupError):
    """An unknown venue or kiosk: a one-line message."""


class Invalid(ValueError):
    """A value an operator or manager gave that we cannot accept: a one-line message."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def add_venue(engine: Engine, name: str) -> int:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("venue name must be 1 to 200 characters")
    with engine.begin() as conn:
        return int(
            conn.execute(insert(venues).values(name=name, created_at=now_utc()).returning(venues.c.id)).scalar_one()
        )


def venue_row(conn: Connection, venue_id: int) -> Any:
    row = conn.execute(select(venues).where(venues.c.id == venue_id)).first()
    if row is None:
        raise NotFound(f"no venue with id {venue_id}")
    return row


def add_kiosk(
    engine: Engine, venue_id: int, name: str = "", ttl: timedelta = ENROLL_CODE_TTL, token_days: int | None = None
) -> tuple[int, str]:
    """A new kiosk of `venue_id` and its one-time enrolment code (valid for `ttl`); the token the enrolment
    gives expires after `token_days` (None: never)."""
    code = new_enroll_code()
    with engine.begin() as conn:
        venue_row(conn, venue_id)
        kiosk_id = conn.execute(
            insert(kiosks)
            .values(
                venue_id=venue_id,
                name=name,
                created_at=now_utc(),
                enroll_code_hash=hash_secret(code),
                enroll_expires_at=now_utc() + ttl,
                token_days=token_days,
            )
            .returning(kiosks.c.id)
        ).scalar_one()
    return int(kiosk_id), code


def reissue_enroll_code(
    engine: Engine, kiosk_id: int, ttl: timedelta = ENROLL_CODE_TTL, token_days: int | None = None
) -> str:
    """A fresh code for an existing kiosk (a replaced PC); its old tokens are revoked when the code is used."""
    code = new_enroll_code()
    with engine.begin() as conn:
        done = conn.execute(
            update(kiosks)
            .where(kiosks.c.id == kiosk_id)
            .values(enroll_code_hash=hash_secret(code), enroll_expires_at=now_utc() + ttl, token_days=token_days)
        ).rowcount
    if not done:
        raise NotFound(f"no kiosk with id {kiosk_id}")
    return code


def enroll(engine: Engine, code: str, now: datetime) -> EnrollResponse | None:
    """Exchange a one-time code for a kiosk token; None for an unknown, used or expired code."""
    code_hash = hash_secret(normalise_code(code))
    token = new_token("kiosk")
    with engine.begin() as conn:
        kiosk = conn.execute(
            select(kiosks.c.id, kiosks.c.venue_id, kiosks.c.enroll_expires_at, kiosks.c.token_days).where(
                kiosks.c.enroll_code_hash == code_hash
            )
        ).first()
        if kiosk is None or (kiosk.enroll_expires_at is not None and kiosk.enroll_expires_at < now):
            return None
        # Consume the code in the same transaction, guarded by its hash: two racing requests cannot both win.
        won = conn.execute(
            update(kiosks)
            .where(kiosks.c.id == kiosk.id, kiosks.c.enroll_code_hash == code_hash)
            .values(enroll_code_hash=None, enroll_expires_at=None, enrolled_at=now)
        ).rowcount
        if not won:
            return None
        conn.execute(
            update(tokens).where(tokens.c.kiosk_id == kiosk.id, tokens.c.revoked_at.is_(None)).values(revoked_at=now)
        )
        conn.execute(
            insert(tokens).values(
                token_hash=hash_secret(token),
                role="kiosk",
                venue_id=kiosk.venue_id,
                kiosk_id=kiosk.id,
                name=f"kiosk {kiosk.id}",
                created_at=now,
                expires_at=now + timedelta(days=kiosk.token_days) if kiosk.token_days else None,
            )
        )
    return EnrollResponse(token=token, kiosk_id=str(kiosk.id), venue_id=str(kiosk.venue_id), server_time=now)


def add_user(
    engine: Engine, role: str, venue_id: int | None = None, name: str = "", expires_at: datetime | None = None
) -> str:
    """A manager (of `venue_id`) or authority token, valid until `expires_at` (None: until revoked); returned
    once, stored hashed."""
    if role not in ROLES or role == "kiosk":
        raise Invalid("role must be 'manager' or 'authority' (kiosks get tokens by enrolment)")
    if role == "manager" and venue_id is None:
        raise Invalid("a manager needs --venue")
    token = new_token(role)
    with engine.begin() as conn:
        if venue_id is not None:
            venue_row(conn, venue_id)
        conn.execute(
            insert(tokens).values(
                token_hash=hash_secret(token),
                role=role,
                venue_id=venue_id if role == "manager" else None,
                name=name,
                created_at=now_utc(),
                expires_at=expires_at,
            )
        )
    return token


def revoke_token(engine: Engine, token: str) -> bool:
    with engine.begin() as conn:
        return bool(
            conn.execute(
                update(tokens).where(tokens.c.token_hash == hash_secret(token)).values(revoked_at=now_utc())
            ).rowcount
        )


def set_safety(engine: Engine, venue_id: int, level: str, assessed_on: date) -> None:
    if level not in SAFETY_LEVELS:
        raise Invalid(f"safety level must be one of {', '.join(SAFETY_LEVELS)}")
    with engine.begin() as conn:
        venue_row(conn, venue_id)
        conn.execute(
            update(venues).where(venues.c.id == venue_id).values(safety_level=level, safety_assessed_on=assessed_on)
        )


def update_station_config(engine: Engine, venue_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge validated `changes` into the venue's station configuration; returns the new configuration."""
    _validate_station_config(changes)
    with engine.begin() as conn:
        current: dict[str, Any] = json.loads(venue_row(conn, venue_id).station_config or "{}")
        current.update({key: value for key, value in changes.items()})
        conn.execute(
            update(venues).where(venues.c.id == venue_id).values(station_config=json.dumps(current, sort_keys=True))
        )
    return current


def _validate_station_config(changes: Mapping[str, Any]) -> None:
    try:
        station_settings.validate(changes)
    except station_settings.InvalidSetting as exc:
        raise Invalid(str(exc)) from None


def remote_config(conn: Connection, venue_id: int, kiosk_id: int) -> RemoteConfig:
    venue = venue_row(conn, venue_id)
    stored = json.loads(venue.station_config or "{}")
    return RemoteConfig(
        venue_id=str(venue.id),
        venue_name=venue.name,
        kiosk_id=str(kiosk_id),
        safety_level=venue.safety_level,
        safety_assessed_on=venue.safety_assessed_on,
        **station_settings.remote_fields(stored),
    )


def venue_summary(conn: Connection, venue_id: int) -> dict[str, Any]:
    """A venue, its kiosks' health (last seen, clock offset) and its event count: for managers."""
    venue = venue_row(conn, venue_id)
    rows = conn.execute(select(kiosks).where(kiosks.c.venue_id == venue_id).order_by(kiosks.c.id)).all()
    count = conn.execute(select(func.count()).select_from(events).where(events.c.venue_id == venue_id)).scalar_one()
    return {
        "venue_id": venue.id,
        "name": venue.name,
        "safety": {
            "level": venue.safety_level,
            "assessed_on": venue.safety_assessed_on.isoformat() if venue.safety_assessed_on else None,
        },
        "station_config": json.loads(venue.station_config or "{}"),
        "events": int(count),
        "kiosks": [
            {
                "kiosk_id": k.id,
                "name": k.name,
                "enrolled": k.enrolled_at is not None,
                "last_seen_at": k.last_seen_at.isoformat() if k.last_seen_at else None,
                "last_clock_offset_ms": k.last_clock_offset_ms,
            }
            for k in rows
        ],
    }


# --- trust material served to kiosks ---------------------------------------------------------------------------


def add_revocation(engine: Engine, kind: str, value: str) -> None:
    """Revoke a person id, or a key: a revoked key is also published with status "revoked" (`keys retire`)."""
    if kind not in ("person", "key"):
        raise Invalid("revocation kind must be 'person' or 'key'")
    with engine.begin() as conn:
        if kind == "key":
            found = conn.execute(update(signing_keys).where(signing_keys.c.kid == value).values(status="revoked"))
            if not found.rowcount:
                raise NotFound(f"no signing key {value!r}")
        exists = conn.execute(
            select(revocations.c.value).where(revocations.c.kind == kind, revocations.c.value == value)
        ).first()
        if exists is None:
            conn.execute(insert(revocations).values(kind=kind, value=value, revoked_at=now_utc()))


def add_trusted_certificate(engine: Engine, der: bytes) -> str:
    """Add an EU DCC signer certificate (DER); returns its kid (base64 of the first 8 bytes of its SHA-256)."""
    digest = hashlib.sha256(der).digest()
    kid = base64.b64encode(digest[:8]).decode()
    with engine.begin() as conn:
        exists = conn.execute(
            select(trusted_certificates.c.kid).where(trusted_certificates.c.fingerprint == digest.hex())
        ).first()
        if exists is None:
            conn.execute(
                insert(trusted_certificates).values(
                    kid=kid, certificate=base64.b64encode(der).decode(), fingerprint=digest.hex(), added_at=now_utc()
                )
            )
    return kid


def list_keys(conn: Connection) -> list[PublicKeyInfo]:
    """What GET /api/v1/keys publishes: public fields only (the private halves in the same table stay here)."""
    columns = (signing_keys.c.kid, signing_keys.c.alg, signing_keys.c.public_key, signing_keys.c.status)
    rows = conn.execute(select(*columns).order_by(signing_keys.c.kid)).all()
    return [PublicKeyInfo(kid=r.kid, alg=r.alg, public_key=r.public_key, status=r.status) for r in rows]


def list_revocations(conn: Connection) -> list[Revocation]:
    rows = conn.execute(select(revocations).order_by(revocations.c.kind, revocations.c.value)).all()
    return [Revocation(kind=r.kind, value=r.value, revoked_at=r.revoked_at) for r in rows]


def list_trusted(conn: Connection) -> list[TrustedCertificate]:
    rows = conn.execute(select(trusted_certificates).order_by(trusted_certificates.c.fingerprint)).all()
    return [TrustedCertificate(kid=r.kid, certificate=r.certificate) for r in rows]


# --- export ---------------------------------------------------------------------------------------------------------

EXPORT_HEADER = (*EVENT_HEADER, "kiosk", "kiosk_wall_time", "clock_offset_s")


def export_rows(engine: Engine, venue_id: int) -> Iterator[tuple[Any, ...]]:
    """The venue's events in time order, streamed: the kiosk export's columns (time on the server's clock,
    i.e. corrected) plus the kiosk, the kiosk's own wall time and its clock offset."""
    with engine.connect() as conn:
        venue_row(conn, venue_id)
        query = (
            select(
                events.c.corrected_time,
                events.c.direction,
                events.c.credential,
                events.c.id_number,
                events.c.full_name,
                events.c.date_of_birth,
                events.c.source,
                events.c.flags,
                events.c.uuid,
                events.c.kiosk_id,
                events.c.wall_time,
                events.c.clock_offset_ms,
            )
            .where(events.c.venue_id == venue_id)
            .order_by(events.c.corrected_time, events.c.uuid)
        )
        for row in conn.execution_options(yield_per=2000).execute(query):
            yield (
                row.corrected_time.isoformat(),
                row.direction,
                row.credential,
                row.id_number,
                row.full_name,
                row.date_of_birth.isoformat() if row.date_of_birth else "",
                row.source,
                ";".join(json.loads(row.flags)),
                row.uuid,
                row.kiosk_id,
                row.wall_time.isoformat(),
                row.clock_offset_ms / 1000,
            )


def purge_events(engine: Engine, before: datetime, venue_id: int | None = None) -> int:
    """Delete events (of one venue, or all) older than `before`; returns how many. A clock-suspect event (its
    corrected time may say 2010 or 2099) goes by when it arrived instead (`server.retention.expired_events`).
    Tracing needs only the incubation period and a margin; keeping more is keeping personal data for nothing."""
    from server.retention import purge_events

    if venue_id is not None:
        with engine.connect() as conn:
            venue_row(conn, venue_id)
    return purge_events(engine, before, venue_id)
