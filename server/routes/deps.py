"""Request dependencies: the engine, the caller (from the bearer token), role checks, ETag answers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from server.auth import Principal, principal_for
from server.settings import ServerSettings

_bearer = HTTPBearer(auto_error=False, description="A kiosk, venue-manager or health-authority token")


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_read_engine(request: Request) -> Engine:
    """Where tracing and exports read: the standby of QRCK_READ_DB when set, else the main database."""
    engine: Engine = request.app.state.read_engine
    return engine


def get_settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def client_key(request: Request) -> str:
    """The client's address for rate limits: X-Forwarded-For only from a trusted proxy (ServerSettings)."""
    from server.ratelimit import client_address

    peer = request.client.host if request.client else ""
    return client_address(peer, request.headers.get("x-forwarded-for"), get_settings(request).trusted_proxies)


def too_many(wait: int, what: str) -> HTTPException:
    return HTTPException(
        status_code=429,
        detail=f"too many {what} from this address: try again shortly",
        headers={"Retry-After": str(wait)},
    )


EngineDep = Annotated[Engine, Depends(get_engine)]
ReadEngineDep = Annotated[Engine, Depends(get_read_engine)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]


def unauthorized(detail: str = "missing or invalid bearer token") -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def get_principal(
    engine: EngineDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    with engine.begin() as conn:
        return known_principal(conn, credentials.credentials)


def known_principal(conn: Connection, token: str) -> Principal:
    """Whose `token` is, in the caller's connection: 401 when it is nobody's (unknown, revoked, expired)."""
    principal = principal_for(conn, token)
    if principal is None:
        raise unauthorized()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def check_role(principal: Principal, role: str, who: str) -> Principal:
    if principal.role != role:
        raise HTTPException(status_code=403, detail=f"this needs a {who} token")
    return principal


def require_role(role: str, who: str) -> Callable[[Principal], Principal]:
    """A dependency that lets only `role` through (403 "this needs a `who` token" otherwise)."""

    def check(principal: PrincipalDep) -> Principal:
        return check_role(principal, role, who)

    return check


def bearer_token(request: Request) -> str:
    """The token of the request's `Authorization: Bearer ...` header, unchecked (401 without one): for a route
    that checks it itself, in the database work it does anyway (the sync route: one connection per batch)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    return token.strip()


def authenticate(conn: Connection, token: str, role: str, who: str) -> Principal:
    """get_principal + require_role in the caller's connection (a transaction is begun and left open)."""
    return check_role(known_principal(conn, token), role, who)


KioskDep = Annotated[Principal, Depends(require_role("kiosk", "kiosk"))]
AuthorityDep = Annotated[Principal, Depends(require_role("authority", "health-authority"))]


def etag_response(request: Request, payload: Any) -> Response:
    """JSON with a strong ETag; 304 without a body when the client already has this version."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    presented = request.headers.get("if-none-match", "")
    if etag in {tag.strip().removeprefix("W/") for tag in presented.split(",")} or presented.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)
