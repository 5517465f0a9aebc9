"""Noticing committed events the database lost: the high-water mark kept beside it (see files.py), compared
on every open. A loss is logged, kept in the store's state under LOST_EVENTS_KEY for `kiosk doctor` and the
status bar, and reported once."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

import kiosk.store.sql as sql

from .files import HighWaterMark
from .schema import kv_state

log = logging.getLogger("kiosk.store.store")
LOST_EVENTS_KEY = "store.lost_events"  # JSON {expected, found, noticed_at}: committed events the database lost


def check_high_water(writer: Engine, high_water: HighWaterMark) -> None:
    """Compare the database with the mark kept beside it; a database behind it lost committed events."""
    expected = high_water.read()  # read before the database: the mark is written after each commit
    with writer.begin() as conn:
        found = int(conn.exec_driver_sql(sql.HIGHEST_SEQ).scalar_one())
        if expected is not None and expected > found:
            log.error("local store: %d committed events are missing (a damaged write-ahead log?)", expected - found)
            noticed = {"expected": expected, "found": found, "noticed_at": datetime.now(UTC).isoformat()}
            _set_state(conn, LOST_EVENTS_KEY, json.dumps(noticed))
    if expected is not None and expected > found:
        high_water.reset(found)
    else:
        high_water.advance(found)


def _set_state(conn: Connection, key: str, value: str) -> None:
    statement = sqlite_insert(kv_state).values(key=key, value=value, updated_at_us=time.time_ns() // 1000)
    conn.execute(statement.on_conflict_do_update(index_elements=[kv_state.c.key], set_={"value": value}))
