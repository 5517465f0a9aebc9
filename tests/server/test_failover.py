"""Failover: a primary and a synchronous hot standby, kiosks syncing, the primary SIGKILLed, the standby promoted.

The server runs on one multi-host libpq URL (`target_session_attrs=read-write`): it reaches whichever of the two
is writable. Four kiosks (real stores, the real sync worker, real HTTP) scan continuously; the primary dies
mid-stream; the kiosks back off, the standby is promoted, they carry on. Then: every event any kiosk saw
acknowledged is on the new primary, every event recorded is there exactly once, and the time from the kill to
the first event stored on the new primary is printed (docs/server.md quotes it)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from kiosk.store import Store
from sync.worker import SyncWorker
from tests.support.events import visit_event
from tests.support.postgres import PgCluster, require_pg_bin
from tests.support.replication import Standby, failover_url, kill_postmaster, replicated_primary

KIOSKS = 4


def acknowledged(db: Path) -> set[str]:
    """What the kiosk was told the server stored (outbox state `acknowledged`)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT e.uuid FROM events e JOIN outbox o ON o.seq = e.seq WHERE o.state = 'acknowledged'"
        ).fetchall()
    return {uuid for (uuid,) in rows}


def on_server(cluster: PgCluster, since: datetime | None = None) -> list[str]:
    with psycopg.connect(host=str(cluster.root), port=cluster.port, user="postgres", dbname="postgres") as conn:
        if since is None:
            return [uuid for (uuid,) in conn.execute("SELECT uuid FROM events")]
        return [uuid for (uuid,) in conn.execute("SELECT uuid FROM events WHERE received_at > %s", (since,))]


class ScanningKiosk:
    """A kiosk store that records an event every 25 ms, synced by the station's own SyncWorker."""

    def __init__(self, db: Path, url: str, token: str) -> None:
        self.db = db
        self.store = Store.open(db)
        self.recorded: list[str] = []
        self.stopping = threading.Event()
        self.worker = SyncWorker(
            lambda: Store.open(db), url, token, batch_size=50, interval_s=0.2, backoff_base_s=0.2, backoff_cap_s=2.0
        )
        self.recorder = threading.Thread(target=self._scan, daemon=True)

    def _scan(self) -> None:
        while not self.stopping.is_set():
            event = visit_event(f"person-{len(self.recorded)}", datetime.now(UTC))
            self.store.record(event)
            self.recorded.append(event.uuid)
            time.sleep(0.025)

    def start(self) -> None:
        self.worker.start()
        self.recorder.start()

    def stop_scanning(self) -> None:
        self.stopping.set()
        self.recorder.join(10)

    def close(self) -> None:
        self.stop_scanning()
        self.worker.stop()
        self.store.close()


def _wait(condition, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _trace_reads_the_standby(server, standby: PgCluster) -> None:  # type: ignore[no-untyped-def]
    """`serve --read-db`: tracing answers from the standby's connections."""
    import httpx

    now = datetime.now(UTC)
    answer = httpx.get(
        f"{server.url}/api/v1/trace",
        params={"id_number": "079195001234", "from": (now - timedelta(hours=1)).isoformat(), "to": now.isoformat()},
        headers={"Authorization": f"Bearer {server.add_user('authority')}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["visits"], "the kiosks' visits, read back from the standby"
    with psycopg.connect(host=str(standby.root), port=standby.port, user="postgres") as conn:
        readers = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    assert readers is not None and readers[0] > 0, "nothing connected to the standby"


def test_primary_killed_standby_promoted_nothing_acknowledged_is_lost(tmp_path: Path, live_server) -> None:
    primary = replicated_primary(require_pg_bin()).start()
    standby = Standby(primary)
    kiosks: list[ScanningKiosk] = []
    try:
        standby.start().wait_streaming()
        server = live_server(failover_url(primary, standby), "--read-db", standby.url())
        venue = server.add_venue("Bệnh viện Chợ Rẫy")
        kiosks = [ScanningKiosk(tmp_path / f"k{n}.sqlite3", server.url, server.enroll(venue)) for n in range(KIOSKS)]
        for kiosk in kiosks:
            kiosk.start()
        _wait(lambda: all(len(acknowledged(k.db)) >= 20 for k in kiosks), 30, "every kiosk to sync before the kill")
        _trace_reads_the_standby(server, standby)

        kill_postmaster(primary)
        killed_at = datetime.now(UTC)  # nothing received from now on can have been stored by the old primary
        acknowledged_by_the_old_primary = set().union(*(acknowledged(k.db) for k in kiosks))
        kill_mono = time.monotonic()
        standby.promote()
        promoted_s = time.monotonic() - kill_mono
        _wait(lambda: len(on_server(standby, since=killed_at)) > 0, 40, "an event stored on the new primary")
        recovery_s = time.monotonic() - kill_mono
        print(
            f"\nfailover: standby promoted {promoted_s:.2f} s after the kill; kiosks storing again {recovery_s:.2f} s"
        )

        time.sleep(1.0)  # a little more traffic on the new primary
        for kiosk in kiosks:
            kiosk.stop_scanning()
        _wait(lambda: all(k.store.pending_count() == 0 for k in kiosks), 40, "the kiosks to drain")
        stored = on_server(standby)
        recorded = [uuid for kiosk in kiosks for uuid in kiosk.recorded]
        ever_acknowledged = set().union(*(acknowledged(k.db) for k in kiosks))
    finally:
        for kiosk in kiosks:
            kiosk.close()
        standby.stop()
        primary.stop()
    assert acknowledged_by_the_old_primary <= set(stored), "an acknowledged event was lost in the failover"
    assert ever_acknowledged <= set(stored)
    duplicates = [uuid for uuid, count in Counter(stored).items() if count > 1]
    assert duplicates == [] and sorted(stored) == sorted(recorded), "every event exactly once"
    assert recovery_s < 30
