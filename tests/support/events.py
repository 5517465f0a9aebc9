"""Kiosk events for tests that write a store directly (retention, purge, housekeeping)."""

from __future__ import annotations

import uuid
from datetime import datetime

from kiosk.events import Direction, NewEvent


def visit_event(person: str, at: datetime, direction: Direction = Direction.ENTRY) -> NewEvent:
    """A CCCD scan of an invented person at `at` (a fresh uuid each time)."""
    return NewEvent(
        direction=direction,
        credential="cccd",
        person_key=person,
        id_number="079195001234",
        full_name="Trần Thị Mai",
        date_of_birth=None,
        wall_time=at,
        monotonic_ns=0,
        source="scan",
        uuid=str(uuid.uuid4()),
    )
