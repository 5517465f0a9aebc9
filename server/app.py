"""The FastAPI application: `create_app(settings)`; `app_factory()` for `uvicorn --factory` with several workers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from server.db import make_engine
from server.ratelimit import TokenBucket
from server.routes import declaration, kiosk, trace, venues
from server.settings import ServerSettings

log = logging.getLogger("server")


def create_app(settings: ServerSettings, engine: Engine | None = None) -> FastAPI:
    """The app over `engine` (made from settings.db_url when not given). Migrations are the caller's job."""
    app = FastAPI(title="QR Checkpoint central server", version="1", description="Kiosk sync and contact tracing.")
    app.state.settings = settings
    app.state.engine = engine if engine is not None else make_engine(settings.db_url, pool_size=8)
    app.state.ingests_in_flight = 0
    app.state.declaration_bucket = (
        TokenBucket(settings.declarations_per_minute) if settings.declarations_per_minute > 0 else None
    )
    app.include_router(kiosk.router)
    app.include_router(venues.router)
    app.include_router(trace.router)
    app.include_router(declaration.router)  # public health declaration page + API (personal QR)

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        # The database is unreachable or overloaded: tell clients to come back, do not show them a 500.
        log.error("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        return JSONResponse(
            {"detail": "database unavailable, retry later"}, status_code=503, headers={"Retry-After": "5"}
        )

    return app


def app_factory() -> FastAPI:
    """For `uvicorn --factory server.app:app_factory --workers N` (settings from QRCK_* variables)."""
    return create_app(ServerSettings.from_env())
