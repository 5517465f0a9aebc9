"""What a kiosk says about itself with each batch (protocol 1, optional): backlog, version, clock, pull ages.

A batch may carry a `status` object beside `kiosk_time` and `events`; a batch with no events and a status is a
heartbeat (a kiosk with nothing to send still says it is alive). Every field is optional and a server reads it
leniently: a field it cannot use is dropped, never a reason to refuse the batch, because the events matter more
than the report about them. Servers before this field ignore it; kiosks before it send none.

    "status": {"software_version": "0.1.0", "pending": 0, "refused": 0, "clock_offset_s": -0.41,
               "ages_s": {"config": 12.5, "keys": 12.5, "revocations": 12.5, "trust-list": 12.5}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from sync.protocol import ProtocolError, check_text

PULLED_RESOURCES = ("config", "keys", "revocations", "trust-list")
VERSION_LIMIT = 40
_COUNT_LIMIT = 1_000_000_000
_SECONDS_LIMIT = 100 * 366 * 86_400  # a century: more is a broken clock, not an age


def software_version() -> str:
    """This installation's version (the package's metadata), or "unknown" when run from a bare checkout."""
    try:
        return metadata.version("qr-checkpoint")[:VERSION_LIMIT]
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class KioskStatus:
    """A kiosk's report. `ages_s`: seconds since each pulled resource was last confirmed (kiosk clock at both
    ends, so the kiosk's clock error cancels out); None for one never fetched."""

    software_version: str | None = None
    pending: int | None = None
    refused: int | None = None
    clock_offset_s: float | None = None  # server - kiosk, as the kiosk last measured it
    ages_s: Mapping[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "software_version": self.software_version,
            "pending": self.pending,
            "refused": self.refused,
            "clock_offset_s": self.clock_offset_s,
            "ages_s": {name: self.ages_s.get(name) for name in PULLED_RESOURCES if name in self.ages_s},
        }

    @classmethod
    def from_json(cls, obj: Any) -> KioskStatus | None:
        """A report from a batch's `status`, keeping only the fields that make sense; None when there is none."""
        if not isinstance(obj, Mapping):
            return None
        ages = obj.get("ages_s")
        return cls(
            software_version=_version(obj.get("software_version")),
            pending=_count(obj.get("pending")),
            refused=_count(obj.get("refused")),
            clock_offset_s=_seconds(obj.get("clock_offset_s"), signed=True),
            ages_s={name: _seconds(ages.get(name)) for name in PULLED_RESOURCES if name in ages}
            if isinstance(ages, Mapping)
            else {},
        )


def _version(value: Any) -> str | None:
    if type(value) is not str or not value:
        return None
    try:
        return check_text(value, "software_version", VERSION_LIMIT)
    except ProtocolError:
        return None


def _count(value: Any) -> int | None:
    return value if type(value) is int and 0 <= value <= _COUNT_LIMIT else None


def _seconds(value: Any, *, signed: bool = False) -> float | None:
    if type(value) not in (int, float) or not math.isfinite(value):
        return None
    low = -_SECONDS_LIMIT if signed else 0
    return float(value) if low <= value <= _SECONDS_LIMIT else None
