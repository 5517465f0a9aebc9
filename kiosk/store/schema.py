"""The current schema as SQLAlchemy Core tables, used to build queries.

The tables are *created* only by the frozen DDL in `migrations.py`; these definitions must describe the result of
the last migration (tests/test_store.py checks that they agree)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, Text

metadata = MetaData()

# Immutable once written (a trigger refuses UPDATE); `seq` is the local insertion order.
events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("uuid", Text, nullable=False, unique=True),
    Column("direction", Text, nullable=False),
    Column("credential", Text, nullable=False),
    Column("person_key", Text, nullable=False),
    Column("id_number", Text, nullable=False),
    Column("full_name", Text, nullable=False),
    Column("date_of_birth", Text),  # YYYY-MM-DD
    Column("wall_time_us", Integer, nullable=False),  # UTC microseconds since the epoch
    Column("monotonic_ns", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("flags", Text, nullable=False),  # JSON array
    Column("details", Text, nullable=False),  # JSON object
)

# The sync state of each event, kept apart so that the event row never changes.
outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, ForeignKey("events.seq", ondelete="CASCADE"), primary_key=True),
    Column("state", Text, nullable=False),  # pending | sent | acknowledged
    Column("attempts", Integer, nullable=False),
    Column("updated_at_us", Integer, nullable=False),
)

# Small key/value state for sync (ETags, last sync time, clock offset).
kv_state = Table(
    "kv_state",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at_us", Integer, nullable=False),
)

# One row per person: their latest event, written in the same transaction as the event. References the event by
# value (no foreign key) so that it answers occupancy and the roll-call without touching the 1M-row events table.
presence = Table(
    "presence",
    metadata,
    Column("person_key", Text, primary_key=True),
    Column("direction", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("wall_time_us", Integer, nullable=False),
    Column("id_number", Text, nullable=False),
    Column("search_name", Text, nullable=False),  # full name folded: lower case, no diacritics
)

EVENT_COLUMNS = (
    events.c.seq,
    events.c.uuid,
    events.c.direction,
    events.c.credential,
    events.c.person_key,
    events.c.id_number,
    events.c.full_name,
    events.c.date_of_birth,
    events.c.wall_time_us,
    events.c.monotonic_ns,
    events.c.source,
    events.c.flags,
    events.c.details,
)
