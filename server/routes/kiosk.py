"""What kiosks call: push events, pull configuration and trust material, read the time, enrol."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from server import admin
from server.ingest import ingest_in
from server.ingest_gate import GateFull
from server.routes.deps import (
    EngineDep,
    KioskDep,
    authenticate,
    bearer_token,
    client_key,
    etag_response,
    too_many,
    unauthorized,
)
from server.settings import ServerSettings
from sync import protocol

log = logging.getLogger("server.kiosk")
router = APIRouter(prefix=protocol.API_PREFIX, tags=["kiosk"])

_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "uuid",
        "direction",
        "credential",
        "person_key",
        "id_number",
        "full_name",
        "wall_time",
        "monotonic_ns",
    ],
    "properties": {
        # Canonical only (lowercase, hyphenated): the answer carries the uuid as sent.
        "uuid": {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
        "direction": {"type": "string", "enum": ["entry", "exit"]},
        **{
            name: {"type": "string", "maxLength": protocol.FIELD_LIMITS[name]}
            for name in ("credential", "person_key", "id_number", "full_name")
        },
        "date_of_birth": {"type": ["string", "null"], "format": "date"},
        "wall_time": {"type": "string", "format": "date-time"},
        "monotonic_ns": {"type": "integer"},
        "source": {"type": "string", "maxLength": protocol.FIELD_LIMITS["source"]},
        "flags": {"type": "array", "items": {"type": "string"}},
        "details": {"type": "object"},
    },
}
_BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["protocol", "kiosk_time", "events"],
    "properties": {
        "protocol": {"type": "integer", "enum": [protocol.PROTOCOL_VERSION]},
        "kiosk_time": {"type": "string", "format": "date-time"},
        "events": {"type": "array", "items": _EVENT_SCHEMA, "maxItems": protocol.MAX_BATCH_EVENTS},
    },
}
_EVENTS_OPENAPI = {
    "security": [{"HTTPBearer": []}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": _BATCH_SCHEMA}}},
    "responses": {
        "401": {"description": "missing or invalid bearer token"},
        "403": {"description": "not a kiosk token"},
        "413": {"description": "too many events or body too large"},
        "422": {"description": "malformed batch; nothing stored"},
        "503": {"description": "busy: retry after Retry-After seconds"},
    },
}


def _now() -> datetime:
    return datetime.now(UTC)


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) past `limit` bytes without reading the rest."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail=f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status_code=413, detail=f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(body: bytes, encoding: str, settings: Any) -> protocol.Batch:
    """gunzip (bounded) and parse; 413 / 415 / 422 as HTTPException."""
    try:
        if encoding == "gzip":
            body = protocol.gunzip_limited(body, settings.max_body_bytes)
        elif encoding not in ("", "identity"):
            raise HTTPException(status_code=415, detail="Content-Encoding must be gzip or identity")
        return protocol.decode_batch(body, settings.max_batch_events, refuse_bad_events=True)
    except protocol.PayloadTooLarge as exc:
        raise HTTPException(status_code=413, detail=str(exc)) from None
    except protocol.ProtocolError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


@router.post(
    protocol.EVENTS_PATH.removeprefix(protocol.API_PREFIX),
    openapi_extra=_EVENTS_OPENAPI,
    summary="Push a batch of events (idempotent)",
)
async def post_events(request: Request) -> Response:
    # No dependencies: the token is checked in the batch's own connection and transaction (a dependency would
    # cost another worker-thread trip, pool checkout and transaction: ~15 % of a sync's server CPU).
    token = bearer_token(request)
    state = request.app.state
    settings = state.settings
    body = await _read_body(request, settings.max_body_bytes)
    received_at = _now()
    encoding = request.headers.get("content-encoding", "").strip().lower()
    try:
        async with state.ingest_gate.slot():
            # one trip to a worker thread for the token, the decoding and the database (each trip costs ~0.3 ms)
            answer = await run_in_threadpool(
                _decode_and_ingest, state.engine, token, body, encoding, settings, received_at
            )
    except GateFull:
        raise HTTPException(status_code=503, detail="busy, retry later", headers={"Retry-After": "2"}) from None
    return Response(content=answer, media_type="application/json")


def _decode_and_ingest(
    engine: Engine, token: str, body: bytes, encoding: str, settings: ServerSettings, received_at: datetime
) -> bytes:
    with engine.connect() as conn:
        principal = authenticate(conn, token, "kiosk", "kiosk")  # 401 / 403 before the body is looked at
        batch = _decode(body, encoding, settings)
        return protocol.encode_batch_result(ingest_in(conn, batch, principal, received_at))


@router.get(protocol.CONFIG_PATH.removeprefix(protocol.API_PREFIX), summary="This kiosk's station configuration")
def get_config(request: Request, principal: KioskDep, engine: EngineDep) -> Response:
    assert principal.venue_id is not None and principal.kiosk_id is not None
    with engine.connect() as conn:
        config = admin.remote_config(conn, principal.venue_id, principal.kiosk_id)
    return etag_response(request, config.to_json())


def _published(request: Request, engine: Any, field: str, lister: Callable[[Connection], list[Any]]) -> Response:
    """Trust material as `{field: [...]}` with an ETag: one shape for keys, revocations and the trust list."""
    with engine.connect() as conn:
        items = lister(conn)
    return etag_response(request, {field: [item.to_json() for item in items]})


@router.get(protocol.KEYS_PATH.removeprefix(protocol.API_PREFIX), summary="Public keys of personal QRs")
def get_keys(request: Request, principal: KioskDep, engine: EngineDep) -> Response:
    return _published(request, engine, "keys", admin.list_keys)


@router.get(protocol.REVOCATIONS_PATH.removeprefix(protocol.API_PREFIX), summary="Revoked persons and keys")
def get_revocations(request: Request, principal: KioskDep, engine: EngineDep) -> Response:
    return _published(request, engine, "revocations", admin.list_revocations)


@router.get(protocol.TRUST_LIST_PATH.removeprefix(protocol.API_PREFIX), summary="EU DCC signer certificates")
def get_trust_list(request: Request, principal: KioskDep, engine: EngineDep) -> Response:
    return _published(request, engine, "certificates", admin.list_trusted)


@router.get(protocol.TIME_PATH.removeprefix(protocol.API_PREFIX), summary="The server's clock")
def get_time() -> dict[str, str]:
    return {"server_time": protocol.format_time(_now())}


class EnrollBody(BaseModel):
    code: str = Field(min_length=1, max_length=100)


def _enrol_throttle(request: Request) -> str:
    """Refuse (429) a client that has spent its wrong-code budget, before any database work; the key for
    charging a wrong code. Right codes cost nothing: a site enrolling twenty kiosks is not an attack."""
    key = client_key(request)
    bucket = request.app.state.enroll_bucket
    wait = bucket.wait(key) if bucket is not None else 0
    if wait:
        raise too_many(wait, "wrong enrolment codes")
    return key


@router.post(protocol.ENROLL_PATH.removeprefix(protocol.API_PREFIX), summary="Exchange a one-time code for a token")
def post_enroll(
    body: EnrollBody, engine: EngineDep, request: Request, client: Annotated[str, Depends(_enrol_throttle)]
) -> dict[str, Any]:
    response = admin.enroll(engine, body.code, _now())
    if response is None:
        bucket = request.app.state.enroll_bucket
        if bucket is not None:
            bucket.take(client)
        raise unauthorized("unknown, used or expired enrolment code")
    log.info("kiosk %s of venue %s enrolled", response.kiosk_id, response.venue_id)
    return response.to_json()
