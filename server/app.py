"""The FastAPI application: `create_app(settings)`; `app_factory()` for `uvicorn --factory` with several workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from server.console.routes import install as install_console
from server.db import make_engine
from server.guard import GuardMiddleware
from server.ingest_gate import IngestGate
from server.ratelimit import TokenBucket
from server.retention import retention_loop
from server.routes import declaration, kiosk, trace, venues
from server.settings import ServerSettings

log = logging.getLogger("server")


def _bucket(per_minute: int) -> TokenBucket | None:
    return TokenBucket(per_minute) if per_minute > 0 else None


def create_app(settings: ServerSettings, engine: Engine | None = None) -> FastAPI:
    """The app over `engine` (made from settings.db_url when not given). Migrations are the caller's job."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if settings.purge_interval is not None:
            first = asyncio.Event()
            loop = retention_loop(app.state.engine, settings.clock, settings.retention, settings.purge_interval, first)
            task = asyncio.create_task(loop)
            await first.wait()  # the first purge is done before the first request is served
        app.state.retention_task = task
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="QR Checkpoint central server",
        version="1",
        description="Kiosk sync and contact tracing.",
        lifespan=lifespan,
        # Swagger UI and ReDoc load their scripts from a CDN: off unless asked for (`serve --api-docs`).
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    app.state.settings = settings
    app.state.engine = engine if engine is not None else make_engine(settings.db_url, pool_size=settings.pool_size)
    # Tracing and exports may read from a standby (never migrated: it is read-only).
    app.state.read_engine = make_engine(settings.read_db_url, pool_size=8) if settings.read_db_url else app.state.engine
    app.state.ingest_gate = IngestGate(settings.max_concurrent_ingests, settings.ingest_queue, settings.ingest_wait_s)
    app.state.declaration_bucket = _bucket(settings.declarations_per_minute)
    app.state.enroll_bucket = _bucket(settings.failed_enrolments_per_minute)
    app.add_middleware(GuardMiddleware, max_event_body=settings.max_body_bytes, idle_timeout=settings.body_timeout)
    app.include_router(kiosk.router)
    app.include_router(venues.router)
    app.include_router(trace.router)
    app.include_router(declaration.router)  # public health declaration page + API (personal QR)
    install_console(app)  # the web console: login at /, pages under /console

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        # The database is unreachable or overloaded: tell clients to come back, do not show them a 500.
        log.error("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        return JSONResponse(
            {"detail": "database unavailable, retry later"}, status_code=503, headers={"Retry-After": "5"}
        )

    @app.exception_handler(ClientDisconnect)
    async def client_gone(_request: Request, _exc: ClientDisconnect) -> Response:
        # The client hung up mid-request: one quiet line, no traceback (nobody is left to answer).
        log.info("client disconnected before its request was complete")
        return Response(status_code=400)

    return app


def app_factory() -> FastAPI:
    """For `uvicorn --factory server.app:app_factory --workers N` (settings from QRCK_* variables)."""
    return create_app(ServerSettings.from_env())
