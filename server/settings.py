"""The server's settings: one typed object, built once (from the CLI or the environment) and passed in."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server.tracing import DEFAULT_MARGIN, DEFAULT_STAY, TraceSettings
from sync.protocol import MAX_BATCH_EVENTS, MAX_BODY_BYTES

DEFAULT_DB_URL = "sqlite:///qr-checkpoint-server.db"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_RETENTION_DAYS = 21  # incubation period and a margin: tracing needs no more
PURGE_INTERVAL = 24 * 3600.0  # `serve` purges on start and then daily
# Batches in the database at once per worker. With 10,000 kiosks on 2 cores and 4 workers, 3 slots had the lower
# p99 than 8 in 3 of 4 comparable runs (docs/benchmarks.md, "Waiting instead of refusing"): within the noise.
INGEST_SLOTS = 3

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_networks(values: Sequence[str]) -> tuple[IpNetwork, ...]:
    """Proxy addresses or networks ("10.0.0.5", "10.0.0.0/24"); ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {value!r}") from None
    return tuple(networks)


@dataclass(frozen=True)
class ServerSettings:
    db_url: str = DEFAULT_DB_URL
    max_batch_events: int = MAX_BATCH_EVENTS
    max_body_bytes: int = MAX_BODY_BYTES
    # Per worker: batches in the database at once (the pool keeps as many connections open), then a queue of
    # batches that wait up to ingest_wait_s each for a slot; past either, 503 + Retry-After (server/ingest_gate.py).
    max_concurrent_ingests: int = INGEST_SLOTS
    ingest_queue: int = 256  # bodies already read: uvicorn holds no more than --max-connections of them anyway
    ingest_wait_s: float = 2.0
    trace: TraceSettings = field(default_factory=TraceSettings)
    declarations_per_minute: int = 20  # per client address, on the public declaration endpoints; 0 = no limit
    failed_enrolments_per_minute: int = 10  # wrong enrolment codes per client address; 0 = no limit
    # Only a connection from one of these may say who the client is (X-Forwarded-For); none by default.
    trusted_proxies: tuple[IpNetwork, ...] = ()
    retention_days: float = DEFAULT_RETENTION_DAYS
    purge_interval: float | None = None  # seconds between purges by the app itself; None: only `kiosk-server purge`
    clock: Callable[[], datetime] = utc_now  # tests move this clock, never the calendar
    body_timeout: float = 15.0  # seconds without a byte of a request body before 408 (slow-body attacks)
    # The one time zone of the server's people: naive times in the CLI and the console mean this zone, and the
    # console and its exports show times in it (with their offset).
    timezone: str = DEFAULT_TIMEZONE
    console_idle_minutes: float = 30.0  # a console session ends after this long without a request
    console_session_hours: float = 12.0  # ... and this long after its login, whatever happens
    login_failures_per_user: int = 5  # wrong passwords per user name per 5 minutes; 0 = no limit
    login_failures_per_client: int = 20  # wrong passwords per client address per 5 minutes; 0 = no limit
    api_docs: bool = False  # /docs and /redoc (Swagger UI, ReDoc): off unless asked for

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def pool_size(self) -> int:
        """Connections the main engine keeps open: at least one per ingest slot, so that a burst of batches never
        waits for a new connection."""
        return max(8, self.max_concurrent_ingests)

    # QRCK_READ_DB: a read-only URL (a hot standby) for tracing and exports; None: the main database. Read from
    # the environment whichever way the settings are built, so `serve` and `serve --workers N` both see it.
    read_db_url: str | None = field(default_factory=lambda: os.environ.get("QRCK_READ_DB") or None)

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.retention_days)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServerSettings:
        """QRCK_SERVER_DB, QRCK_DEFAULT_STAY_MINUTES, QRCK_MARGIN_MINUTES, QRCK_TRUSTED_PROXIES (comma-separated),
        QRCK_RETENTION_DAYS, QRCK_TIMEZONE, QRCK_API_DOCS=1, QRCK_BODY_TIMEOUT, QRCK_INGEST_SLOTS (used by
        `serve --workers N`; each worker purges daily, which is harmless)."""
        env = os.environ if environ is None else environ
        trace = TraceSettings(
            default_stay=timedelta(
                minutes=float(env.get("QRCK_DEFAULT_STAY_MINUTES", DEFAULT_STAY.total_seconds() / 60))
            ),
            margin=timedelta(minutes=float(env.get("QRCK_MARGIN_MINUTES", DEFAULT_MARGIN.total_seconds() / 60))),
        )
        proxies = [p for p in env.get("QRCK_TRUSTED_PROXIES", "").split(",") if p.strip()]
        return cls(
            db_url=env.get("QRCK_SERVER_DB", DEFAULT_DB_URL),
            trace=trace,
            trusted_proxies=parse_networks(proxies),
            retention_days=float(env.get("QRCK_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)),
            purge_interval=PURGE_INTERVAL,
            body_timeout=float(env.get("QRCK_BODY_TIMEOUT", 15.0)),
            max_concurrent_ingests=int(env.get("QRCK_INGEST_SLOTS", INGEST_SLOTS)),
            timezone=env.get("QRCK_TIMEZONE", DEFAULT_TIMEZONE),
            api_docs=env.get("QRCK_API_DOCS", "") == "1",
        )
