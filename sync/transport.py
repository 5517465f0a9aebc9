"""The kiosk's HTTP plumbing: one verified session, timeouts on every call, errors as values.

Both the outbox pusher (`sync.client`) and the puller (`sync.pull`) talk through `Transport`, so TLS,
timeouts, the bearer token, the clock measurement and Retry-After handling live in one place.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

Timeout = tuple[float, float]  # (connect, read) seconds, as requests takes them
DEFAULT_TIMEOUT: Timeout = (5.0, 30.0)
MAX_RETRY_AFTER_S = 3600.0  # a server asking for more than an hour is misconfigured; we retry hourly anyway


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SyncError:
    """A failed exchange, as a value that can cross threads. `message` is one line, no personal data."""

    kind: str  # "unreachable", "timeout", "http", "auth", "protocol", "tls", "store" (the local database)
    message: str
    status: int | None = None
    retry_after_s: float | None = None  # from a 429/503 Retry-After header

    @property
    def retryable(self) -> bool:
        """Whether trying again later can help (a wrong token or a refused enrolment code cannot)."""
        return self.kind in ("unreachable", "timeout", "http", "store") and self.status not in (400, 404, 413, 422)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Exchange:
    """A completed HTTP exchange (any status), with the local times around it for the clock offset."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    sent_at: datetime
    received_at: datetime

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def midpoint(self) -> datetime:
        return self.sent_at + (self.received_at - self.sent_at) / 2


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or utc_now())).total_seconds()
    return min(max(delta, 0.0), MAX_RETRY_AFTER_S)


def one_line(text: str, limit: int = 200) -> str:
    """Collapse a message to one short line (for the status bar and logs)."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_exception(exc: requests.RequestException, url: str) -> SyncError:
    """Turn a requests exception into a short value without the library's multi-line noise."""
    host = urlsplit(url).netloc or url
    if isinstance(exc, requests.exceptions.SSLError):
        return SyncError("tls", f"TLS verification failed for {host}")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return SyncError("timeout", f"connecting to {host} timed out")
    if isinstance(exc, requests.exceptions.Timeout):
        return SyncError("timeout", f"{host} did not answer in time")
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = "connection refused" if "refused" in str(exc).lower() else "connection failed or was closed"
        return SyncError("unreachable", f"server {host} unreachable: {reason}")
    return SyncError("unreachable", one_line(f"request to {host} failed: {type(exc).__name__}"))


def http_error(exchange: Exchange, what: str) -> SyncError:
    """A SyncError for a non-2xx answer; carries Retry-After for 429/503."""
    status = exchange.status
    detail = _error_detail(exchange.body)
    message = one_line(f"{what}: HTTP {status}" + (f" ({detail})" if detail else ""))
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(exchange.headers.get("Retry-After"), exchange.received_at)
    kind = "auth" if status in (401, 403) else "http"
    return SyncError(kind, message, status=status, retry_after_s=retry_after)


def _error_detail(body: bytes) -> str:
    """The server's short error text, if it sent the usual {"detail": "..."} (FastAPI)."""
    try:
        detail = json.loads(body.decode("utf-8")).get("detail")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""
    return one_line(detail, 120) if isinstance(detail, str) else ""


class Transport:
    """One `requests.Session` to one server: bearer token, TLS verification, timeouts, local send/receive times."""

    def __init__(
        self,
        server_url: str,
        token: str | None = None,
        *,
        ca_file: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.timeout = timeout
        self.clock = clock
        self.session = requests.Session()
        # never False: a kiosk on venue Wi-Fi must not trust any certificate. Passed with every request, not
        # only set on the session: requests lets $REQUESTS_CA_BUNDLE override a session's `verify`.
        self.verify: str | bool = ca_file or True
        self.session.verify = self.verify
        self.session.headers["User-Agent"] = "qr-checkpoint-kiosk/1"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def url(self, path: str) -> str:
        return self.server_url + path

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Exchange | SyncError:
        """Send one request; return the exchange (whatever its status) or a SyncError when there was no answer.

        `body` is sent as is (the caller sets Content-Type / Content-Encoding); `json_body` is encoded here."""
        url = self.url(path)
        all_headers = dict(headers or {})
        data = body
        if json_body is not None:
            data = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        sent_at = self.clock()
        start = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                data=data,
                headers=all_headers,
                timeout=self.timeout,
                allow_redirects=False,
                verify=self.verify,
            )
            body = response.content  # read fully inside the try: a connection closed mid-body raises here
        except requests.RequestException as exc:
            return describe_exception(exc, url)
        # received_at from the monotonic span, so a wall-clock jump during the call does not skew the midpoint
        received_at = sent_at + timedelta(seconds=time.monotonic() - start)
        return Exchange(response.status_code, response.headers, body, sent_at, received_at)

    def close(self) -> None:
        self.session.close()
