"""The server's settings: one typed object, built once (from the CLI or the environment) and passed in."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

from server.tracing import DEFAULT_MARGIN, DEFAULT_STAY, TraceSettings
from sync.protocol import MAX_BATCH_EVENTS, MAX_BODY_BYTES

DEFAULT_DB_URL = "sqlite:///qr-checkpoint-server.db"


@dataclass(frozen=True)
class ServerSettings:
    db_url: str = DEFAULT_DB_URL
    max_batch_events: int = MAX_BATCH_EVENTS
    max_body_bytes: int = MAX_BODY_BYTES
    max_concurrent_ingests: int = 16  # beyond this, 503 + Retry-After: the kiosks back off instead of piling up
    trace: TraceSettings = field(default_factory=TraceSettings)
    declarations_per_minute: int = 20  # per client address, on the public declaration endpoints; 0 = no limit

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServerSettings:
        """QRCK_SERVER_DB, QRCK_DEFAULT_STAY_MINUTES, QRCK_MARGIN_MINUTES (used by `serve --workers N`)."""
        env = os.environ if environ is None else environ
        trace = TraceSettings(
            default_stay=timedelta(
                minutes=float(env.get("QRCK_DEFAULT_STAY_MINUTES", DEFAULT_STAY.total_seconds() / 60))
            ),
            margin=timedelta(minutes=float(env.get("QRCK_MARGIN_MINUTES", DEFAULT_MARGIN.total_seconds() / 60))),
        )
        return cls(db_url=env.get("QRCK_SERVER_DB", DEFAULT_DB_URL), trace=trace)
