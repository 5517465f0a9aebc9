"""The record of one entry or exit, as the rules decide it and the store keeps it."""

from __future__ import annotations

import enum
import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


class Direction(enum.StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


@dataclass(frozen=True)
class NewEvent:
    """An event about to be written. Immutable once stored; `uuid` makes the server's ingest idempotent."""

    direction: Direction
    credential: str  # credential kind: "cccd", "pccovid", "personal", "dcc", "unknown", "manual"
    person_key: str
    id_number: str
    full_name: str
    date_of_birth: date | None
    wall_time: datetime  # timezone-aware; stored as UTC
    monotonic_ns: int  # the kiosk's monotonic clock when decided (detects wall-clock jumps)
    source: str = "scan"  # "scan", "scanner", "assisted", "manual_checkout", "auto_checkout"
    flags: tuple[str, ...] = ()  # e.g. "id_mismatch", "symptoms", "over_capacity": worth a guard's look
    details: dict[str, Any] = field(default_factory=dict)  # JSON-safe extras (e.g. questionnaire answers)
    uuid: str = field(default_factory=lambda: str(uuid_module.uuid4()))


@dataclass(frozen=True)
class StoredEvent(NewEvent):
    """An event as read back from the store; `seq` is the local insertion order."""

    seq: int = 0
    outbox_state: str = "pending"  # "pending", "sent" or "acknowledged"
