"""The kiosk's clock against the server's: measured at every exchange, kept in the store, warned about.

Cheap kiosk PCs often have a dead CMOS battery and boot in 2010. The offset is the server's time minus the
kiosk's time at the midpoint of the request (the server answered somewhere between send and receive, and the
midpoint halves the error, like SNTP).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

# The one threshold: a kiosk clock more than 2 minutes off the server's is shown to the guard and warned about.
OFFSET_WARNING_S = 120.0
KEY_OFFSET = "sync.clock_offset_s"
KEY_MEASURED_AT = "sync.clock_measured_at"


class KeyValueStore(Protocol):
    def get_state(self, key: str) -> str | None: ...

    def set_state(self, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class ClockReading:
    offset_s: float  # server - kiosk; positive when the kiosk is behind
    measured_at: datetime  # kiosk time of the measurement

    @property
    def warning(self) -> bool:
        return is_off(self.offset_s)


def is_off(offset_s: float) -> bool:
    """Whether a clock `offset_s` seconds off the server's is worth a warning."""
    return abs(offset_s) > OFFSET_WARNING_S


def parse_server_time(value: object) -> datetime | None:
    """An ISO 8601 time from the server, as an aware UTC datetime; None if absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def measure(server_time: datetime, local_midpoint: datetime) -> ClockReading:
    return ClockReading((server_time - local_midpoint).total_seconds(), local_midpoint)


def save(store: KeyValueStore, reading: ClockReading) -> None:
    store.set_state(KEY_OFFSET, f"{reading.offset_s:.3f}")
    store.set_state(KEY_MEASURED_AT, reading.measured_at.isoformat())


def load(store: KeyValueStore) -> ClockReading | None:
    """The last measured offset, or None if the kiosk never reached its server."""
    offset = store.get_state(KEY_OFFSET)
    measured_at = parse_server_time(store.get_state(KEY_MEASURED_AT))
    if offset is None or measured_at is None:
        return None
    try:
        return ClockReading(float(offset), measured_at)
    except ValueError:
        return None
