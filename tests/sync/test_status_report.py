"""The kiosk's status report (`sync.protocol_status`) against the real server: with every batch, alone as a
heartbeat, after `kiosk sync --once`; and an old server's or old kiosk's half still works."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.store import Store
from server.db import open_database
from server.fleet import KioskHealth, fleet_state
from server.models import kiosk_status
from sync import protocol
from sync.client import SyncClient
from sync.protocol_status import KioskStatus, software_version
from sync.worker import SyncWorker
from tests.support.postgres import LiveServer, sqlite_server_for
from tests.support.sync_servers import ROOT, ImitationServer, _env, make_events


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from sqlite_server_for(tmp_path_factory, "status-server")


def _reported(server: LiveServer, kiosk_id: int) -> object:
    with open_database(server.db_url).connect() as conn:
        return conn.execute(select(kiosk_status).where(kiosk_status.c.kiosk_id == kiosk_id)).first()


def _kiosk_id(server: LiveServer, venue: int) -> tuple[str, int]:
    import httpx

    answer = httpx.post(f"{server.url}/api/v1/enroll", json={"code": server.add_kiosk(venue)}, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["token"]), int(answer.json()["kiosk_id"])


def test_sync_once_reports_backlog_version_clock_and_pull_ages(tmp_path: Path, real_server: LiveServer) -> None:
    venue = real_server.add_venue("Siêu thị Co.op")
    config, db = tmp_path / "kiosk.toml", tmp_path / "kiosk.sqlite3"
    token, kiosk_id = _kiosk_id(real_server, venue)
    config.write_text(f'[server]\nurl = "{real_server.url}"\ntoken = "{token}"\n')
    with Store.open(db) as scans:
        for event in make_events(30):
            scans.record(event)
    command = [sys.executable, "-m", "kiosk.cli", "sync", "--once", "--config", str(config), "--db", str(db)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT, env=_env())
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr, done.stderr
    row = _reported(real_server, kiosk_id)
    assert row is not None
    assert (row.pending, row.refused, row.software_version) == (0, 0, software_version())  # type: ignore[attr-defined]
    assert row.clock_offset_ms is not None and abs(row.clock_offset_ms) < 5000  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    for moment in (row.config_fetched_at, row.keys_fetched_at, row.trust_list_fetched_at):  # type: ignore[attr-defined]
        assert moment is not None and timedelta(0) <= now - moment < timedelta(minutes=1)
    with open_database(real_server.db_url).connect() as conn:
        state = next(s for s in fleet_state(conn, now) if s.kiosk_id == kiosk_id)
    assert state.health == KioskHealth.OK, state.reasons


def test_a_backlog_is_reported_and_a_heartbeat_follows_a_quiet_spell(tmp_path: Path, real_server: LiveServer) -> None:
    venue = real_server.add_venue("Nhà thuốc Long Châu")
    token, kiosk_id = _kiosk_id(real_server, venue)
    with Store.open(tmp_path / "kiosk.sqlite3") as store:
        for event in make_events(25):
            store.record(event)
        client = SyncClient(store, real_server.url, token, batch_size=10, max_in_flight=1)
        first = client.sync_once()  # one batch of 10: 15 still waiting when it was sent
        assert first.stored == 10
        assert _reported(real_server, kiosk_id).pending == 15  # type: ignore[union-attr]
        client.drain()  # its batches go without a status: one was made less than 5 s ago
        assert _reported(real_server, kiosk_id).pending == 15  # type: ignore[union-attr]
        assert client.heartbeat(300) is None  # it just spoke, but the backlog moved: a report with it
        assert _reported(real_server, kiosk_id).pending == 0  # type: ignore[union-attr]
        before = _reported(real_server, kiosk_id).reported_at  # type: ignore[union-attr]
        assert client.heartbeat(300) is None  # it just spoke and nothing changed: nothing is sent
        assert _reported(real_server, kiosk_id).reported_at == before  # type: ignore[union-attr]
        time.sleep(0.05)
        assert client.heartbeat(0) is None  # silent "long enough": an empty batch with the status
        assert _reported(real_server, kiosk_id).reported_at > before  # type: ignore[union-attr]
        client.close()


def test_the_worker_reports_after_its_pull_even_with_nothing_to_send(tmp_path: Path, real_server: LiveServer) -> None:
    venue = real_server.add_venue("Tiệm bánh")
    token, kiosk_id = _kiosk_id(real_server, venue)
    db = tmp_path / "kiosk.sqlite3"
    Store.open(db).close()
    worker = SyncWorker(lambda: Store.open(db), real_server.url, token, interval_s=0.2, pull_interval_s=3600)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _reported(real_server, kiosk_id) is None:
            time.sleep(0.1)
    finally:
        worker.stop()
    row = _reported(real_server, kiosk_id)
    assert row is not None and row.pending == 0 and row.keys_fetched_at is not None  # type: ignore[attr-defined]


def test_a_kiosk_reporting_to_a_server_that_ignores_reports_still_syncs(tmp_path: Path) -> None:
    """The imitation server speaks protocol 1 as it was before the status (it drops unknown fields)."""
    with ImitationServer(tmp_path / "server.sqlite3") as server, Store.open(tmp_path / "kiosk.sqlite3") as store:
        from tests.support.sync_servers import TOKEN

        for event in make_events(12):
            store.record(event)
        client = SyncClient(store, server.url, TOKEN)
        report = client.drain()
        assert report.ok and report.stored == 12 and report.pending_left == 0
        assert client.report_status() is None  # an empty batch is a valid batch there too
        client.close()


def test_status_round_trips_and_drops_what_it_cannot_use() -> None:
    status = KioskStatus("0.1.0", 3, 0, -1.5, {"config": 1.0, "keys": None, "trust-list": 2.0})
    body = protocol.decode_batch(protocol.encode_batch([], datetime.now(UTC), status.to_json()))
    assert KioskStatus.from_json(body.status) == status
    assert protocol.decode_batch(protocol.encode_batch([], datetime.now(UTC))).status is None  # an old kiosk
    odd = KioskStatus.from_json({"pending": 2**40, "clock_offset_s": float("nan"), "ages_s": {"keys": -1, "x": 1}})
    assert odd == KioskStatus(ages_s={"keys": None})
    assert KioskStatus.from_json("not an object") is None
