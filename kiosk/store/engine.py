"""SQLAlchemy engines for one SQLite file: connection settings and explicit transaction control."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from .codec import fold_text

BUSY_TIMEOUT_MS = 10_000
# Keep the WAL file from growing without bound after a burst (bytes kept after a checkpoint).
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
CACHE_KIB = 16 * 1024  # per connection
# Writers checkpoint only past this many WAL pages (40 MB); normally checkpoint.Checkpointer gets there first.
WAL_AUTOCHECKPOINT_PAGES = 10_000


def _configure(dbapi_conn: sqlite3.Connection, synchronous: str) -> None:
    # pysqlite's own implicit BEGINs are switched off; the "begin" hook below emits ours.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        # A larger page cache than SQLite's 2 MB default keeps the presence table and the hot index pages in
        # memory. (No mmap: it turns a disk read error into SIGBUS, where we want a StoreError.)
        cursor.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    finally:
        cursor.close()
    dbapi_conn.create_function("kiosk_fold", 1, fold_text, deterministic=True)


def make_engine(path: Path, *, writer: bool, synchronous: str = "FULL") -> Engine:
    """An engine whose transactions start with BEGIN IMMEDIATE (writer) or a deferred BEGIN (reader).

    IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead of one failing with
    "database is locked" when it upgrades a read lock.

    synchronous FULL: in WAL mode every commit fsyncs the WAL, so an event survives a power cut once record()
    returns. NORMAL (no fsync per commit, never corruption) is for writes that may be lost harmlessly; any later
    FULL commit makes them durable too, as the WAL is one file written in order."""
    engine = create_engine(
        URL.create("sqlite", database=str(path)),  # not an f-string URL: a path may contain "?" or "#"
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        poolclass=QueuePool,
        pool_size=1 if writer else 4,
        max_overflow=0 if writer else 8,
        pool_timeout=60,
    )
    begin_sql = "BEGIN IMMEDIATE" if writer else "BEGIN"
    event.listen(engine, "connect", lambda dbapi_conn, _record: _configure(dbapi_conn, synchronous))
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin_sql))
    return engine
