"""A background WAL checkpointer, so that record() never pays for copying the WAL into the database file.

SQLite's automatic checkpoint runs inside whichever commit crosses the threshold: that scan would wait for
megabytes of writes and an fsync. Here a daemon thread runs a PASSIVE checkpoint (it never blocks readers or
writers) every `interval` seconds; the writers' own auto-checkpoint stays as a much larger backstop."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from kiosk.threads import os_named

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(self, path: Path, interval: float = 1.0) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=os_named(self._run, "qrc-checkpoint"), name="store-checkpoint", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            log.warning("WAL checkpointer not started: %s", exc)
            return
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            while not self._stop.wait(self._interval):
                self._checkpoint(conn)
            self._checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # e.g. disk full: the writers' backstop checkpoint still exists
            log.warning("WAL checkpoint failed: %s", exc)
