"""The kiosk's local SQLite store. Every failure is a one-line `StoreError` (no personal data in it).

    store = Store.open(path)          # creates the folder, WAL, synchronous=FULL, migrates; refuses newer schemas
    event = store.record(new_event)   # event + pending outbox row + presence, one fsynced transaction
    store.last_event(person_key) / store.occupancy() / store.inside() / store.search(text)
    store.events(start, end) / store.count_events() / store.today_counts(day_start)
    store.claim_pending(n) -> acknowledge(uuids) | release(uuids); release_unacknowledged() at start-up
    store.pending_count() / store.outbox_counts() / store.oldest_pending_time()
    store.get_state(key) / store.set_state(key, value)
    store.purge(older_than)           # acknowledged events only; never the entry of someone still inside
    store.close()                     # or `with Store.open(path) as store:`

Decisions worth knowing:
- Times are stored as integer UTC microseconds and returned as aware UTC datetimes; naive datetimes are refused.
- `presence` holds each person's latest event by value (seq, direction, time), written in the same transaction
  as the event: occupancy, the roll-call and last_event never scan the events table.
- One Store may be shared by the scan thread and the sync thread (a lock serialises its writes; reads run in
  parallel under WAL). Two Stores on one file also work (BEGIN IMMEDIATE + busy timeout).
- The outbox state machine is pending -> sent -> acknowledged, with sent -> pending on release; outbox
  transitions commit without an fsync of their own (a lost one only causes a resend; the server is idempotent).
"""

from __future__ import annotations

from .errors import StoreError
from .store import Store

__all__ = ["Store", "StoreError"]
