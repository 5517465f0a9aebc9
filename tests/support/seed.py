"""Seeding a kiosk store with many events fast, for tests and benchmarks that need a big history or backlog.

Writes the same rows as `Store.record()` (events, outbox, presence) but in large non-durable transactions of
plain tuples; never for production, where every event is fsynced on its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from kiosk.events import NewEvent
from kiosk.store import Store
from kiosk.store import sql as store_sql
from kiosk.store.codec import EVENT_FIELDS, event_to_row
from kiosk.store.engine import CACHE_KIB
from kiosk.store.store import ACKNOWLEDGED, _now_us, _presence_values

BULK_EVENT_SQL = f"INSERT INTO events ({', '.join(EVENT_FIELDS)}) VALUES ({', '.join('?' * len(EVENT_FIELDS))})"
NEXT_SEQ = """SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
                  coalesce((SELECT max(seq) FROM events), 0)) + 1"""


def bulk_load(
    store: Store, new_events: Iterable[NewEvent], outbox_state: str = ACKNOWLEDGED, batch: int = 50_000
) -> int:
    """Insert many events in transactions of `batch`; returns how many."""
    total = 0
    now = _now_us()
    iterator = iter(new_events)
    while chunk := list(itertools.islice(iterator, batch)):
        with store._write("bulk loading events", durable=False) as conn:
            conn.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MB while loading: random uuid index
            first = conn.exec_driver_sql(NEXT_SEQ).scalar_one()
            rows = [event_to_row(event) for event in chunk]
            conn.exec_driver_sql(
                BULK_EVENT_SQL, [(first + i, *(r[f] for f in EVENT_FIELDS[1:])) for i, r in enumerate(rows)]
            )
            conn.exec_driver_sql(
                "INSERT INTO outbox (seq, state, attempts, updated_at_us) VALUES (?, ?, 0, ?)",
                [(first + i, outbox_state, now) for i in range(len(rows))],
            )
            latest = {r["person_key"]: (first + i, r) for i, r in enumerate(rows)}  # the last one wins
            conn.exec_driver_sql(
                store_sql.PRESENCE_UPSERT_SQL, [_presence_values(r, seq) for seq, r in latest.values()]
            )
        total += len(chunk)
    with store._write("bulk loading events", durable=False) as conn:
        conn.exec_driver_sql(f"PRAGMA cache_size = {-CACHE_KIB}")
    return total
