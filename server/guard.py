"""What stands between the network and the routes: body limits, body timeouts, security headers, quiet
disconnects (an ASGI middleware), and uvicorn protocols that close connections whose headers never finish or
grow past MAX_HEADER_BYTES.

Every body is bounded before anything parses it or looks at a token: a declared Content-Length over the
route's limit is answered 413 at once (the body is never read), and a chunked or lying body is counted while it
streams and cut off at the limit. The 413 closes the connection, so a client cannot keep pushing the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sync import protocol

log = logging.getLogger("server.guard")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FORM_LIMIT = 16 * 1024  # the declaration form and its JSON twin: a few short fields
ENROLL_LIMIT = 1024  # {"code": "..."}
DEFAULT_LIMIT = 64 * 1024  # every other body (station settings, safety level)
BODY_IDLE_TIMEOUT = 15.0  # seconds without a byte of the body: the client is gone or stalling on purpose
BODY_TOTAL_TIMEOUT = 60.0  # the whole body, however it trickles in
HEADER_TIMEOUT = 15.0  # seconds for a request's headers to arrive (slowloris)
MAX_HEADER_BYTES = 16 * 1024  # a request line and headers; a bearer token and a few short headers fit many times

# HTML pages: nothing but themselves (inline style, QR images as data: URLs), never framed. A response that sets
# one of these itself keeps its own (the console's pages load their stylesheet from this server).
SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
)


def body_limit(path: str, max_event_body: int) -> int:
    """The largest body `path` accepts, in bytes (a gzipped events body counts compressed here)."""
    if path == protocol.EVENTS_PATH:
        return max_event_body
    if path in ("/declare", "/api/v1/declarations"):
        return FORM_LIMIT
    if path == protocol.ENROLL_PATH:
        return ENROLL_LIMIT
    return DEFAULT_LIMIT


class _ClientGone(Exception):
    """The client hung up while sending its body: nothing to answer, nothing worth a traceback."""


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body is not wanted: uvicorn closes after this answer
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Body limits and timeouts, security headers, quiet disconnects: see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        max_event_body: int = protocol.MAX_BODY_BYTES,
        idle_timeout: float = BODY_IDLE_TIMEOUT,
        total_timeout: float = BODY_TOTAL_TIMEOUT,
    ) -> None:
        self.app = app
        self.max_event_body = max_event_body
        self.idle_timeout = idle_timeout
        self.total_timeout = total_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"], self.max_event_body)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer(send, 413, f"body larger than {limit} bytes")
            return
        state = {"started": False, "answered": False}

        async def guarded_send(message: Message) -> None:
            if state["answered"]:
                return  # we refused the body ourselves: whatever the app says after that is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
                headers = message.get("headers", [])
                present = {bytes(name).lower() for name, _ in headers}  # the console sets its own policy
                message["headers"] = [*headers, *(header for header in SECURITY_HEADERS if header[0] not in present)]
            await send(message)

        async def refuse(status: int, detail: str) -> Message:
            # Answer now, then tell the app the client is gone: FastAPI turns an error raised while it reads
            # a body into its own 400, so the refusal cannot travel as an exception.
            if not state["started"] and not state["answered"]:
                await _answer(send, status, detail)
            state["answered"] = True
            return {"type": "http.disconnect"}

        try:
            await self.app(scope, self._bounded(receive, limit, refuse), guarded_send)
        except _ClientGone:
            log.info("client disconnected before its request was complete")
        except Exception:
            if not state["answered"]:
                raise
            # The app failed on the disconnect we fed it after refusing its body: already answered.

    def _bounded(self, receive: Receive, limit: int, refuse: Callable[[int, str], Awaitable[Message]]) -> Receive:
        size = 0
        complete = False
        refused = False
        deadline = time.monotonic() + self.total_timeout

        async def bounded_receive() -> Message:
            nonlocal size, complete, refused
            if complete:  # after the body: waiting for a disconnect, no timeout
                return await receive()
            if refused:
                return {"type": "http.disconnect"}
            wait = min(self.idle_timeout, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0.001))
            except TimeoutError:
                refused = True
                return await refuse(408, "request body too slow")
            if message["type"] == "http.disconnect":
                raise _ClientGone
            size += len(message.get("body", b""))
            if size > limit:
                refused = True
                return await refuse(413, f"body larger than {limit} bytes")
            complete = not message.get("more_body", False)
            return message

        return bounded_receive


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


class _HeaderDeadline:
    """Closes a connection whose request headers take longer than `header_timeout` (uvicorn's keep-alive timeout
    only runs between requests, and is reset by every byte received). Mixed into uvicorn's HTTP protocols, which
    provide `loop` and `transport`; each says when it is waiting for headers."""

    # From the environment so that `serve --workers N` (spawned processes, a class by import path) sees it too.
    header_timeout = float(os.environ.get("QRCK_HEADER_TIMEOUT", HEADER_TIMEOUT))
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def _waiting_for_headers(self) -> bool:
        raise NotImplementedError

    def _start_header_clock(self) -> None:
        self._waiting_since = self.loop.time()
        self.loop.call_later(1.0, self._watch_headers)

    def _watch_headers(self) -> None:
        if self.transport.is_closing():
            return
        waiting = self._waiting_for_headers()
        if waiting and self.loop.time() - self._waiting_since > self.header_timeout:
            self.transport.close()
            return
        if not waiting:
            self._waiting_since = self.loop.time()
        self.loop.call_later(1.0, self._watch_headers)


class GuardedH11Protocol(_HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol with the header deadline (its header size is bounded by uvicorn's
    `h11_max_incomplete_event_size`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_clock()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._waiting_since = self.loop.time()  # the next request's headers get their own time

    def _waiting_for_headers(self) -> bool:
        between_requests = self.cycle is None or self.cycle.response_complete
        return between_requests and self.conn.their_state in (h11.IDLE, h11.DONE)


class _HeadersTooLarge(Exception):
    """Raised in a parser callback: httptools turns it into a parser error, which uvicorn answers 400 and closes."""


class GuardedHttpToolsProtocol(_HeaderDeadline, HttpToolsProtocol):
    """uvicorn's httptools protocol (a C parser; with uvloop about 15 % less server CPU per sync than h11 with
    asyncio, docs/benchmarks.md) with the header deadline and a bound on the request line and headers, which
    httptools itself does not have: it keeps an unfinished header line to itself, however long.

    Two counts, each at most the true size of the headers: the complete pieces the parser hands over (a last
    chunk that ends the headers can hold many), and the raw bytes of chunks after which the headers are still
    unfinished (an endless line). A pipelining client's chunk may also hold the end of the previous body, counted
    too: such a client gets the bound a little early."""

    max_header_bytes = MAX_HEADER_BYTES

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_headers = False
        self._pieces = self._unfinished = 0
        self._start_header_clock()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_headers and not self.transport.is_closing():
            self._unfinished += len(data)
            if self._unfinished > self.max_header_bytes:
                self.send_400_response("Request headers too large.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._pieces = self._unfinished = 0

    def on_url(self, url: bytes) -> None:
        self._count_piece(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_piece(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._waiting_since = self.loop.time()  # the next request's headers get their own time

    def _count_piece(self, size: int) -> None:
        self._pieces += size
        if self._pieces > self.max_header_bytes:
            raise _HeadersTooLarge(f"request headers larger than {self.max_header_bytes} bytes")

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete
