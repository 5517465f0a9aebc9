"""The sync-load benchmark's generator (benchmarks/bench_sync_load.py) against a real `serve --workers 2` on the
test PostgreSQL: what it counts as acknowledged is what landed, and it sees the server's refusals."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from tests.support.paths import REPO_ROOT
from tests.support.postgres import LiveServer, PgCluster

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))  # the benchmarks run as scripts: their folder is their package

import bench_sync_load  # noqa: E402
from sync_load_client import run_load  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def load_server(pg_cluster: PgCluster, live_server: Callable[..., LiveServer]) -> tuple[LiveServer, str]:
    from server.db import open_database

    url = pg_cluster.create_database()
    open_database(url).dispose()  # migrated before the kiosks are written
    return live_server(url, "--workers", "2"), url.replace("postgresql+psycopg://", "postgresql://")


def test_every_event_acknowledged_landed_once(load_server: tuple[LiveServer, str]) -> None:
    server, dsn = load_server
    tokens = bench_sync_load.add_kiosks(dsn, 45)
    enrolled, _ = bench_sync_load.enrol_over_http(server, 5, threads=4)
    out = run_load(server.url, tokens + enrolled, period=1.0, seconds=3.0, procs=2, events=3, connections=8)
    assert dict(out.errors) == {}
    assert len(out.latencies) == 50 * 3  # each kiosk: its phase in [0, 1) s, then every second until 3 s
    assert out.events_sent == out.stored == 50 * 3 * 3
    assert bench_sync_load.count_events(dsn) == out.stored
    assert len(out.cpu_percent) == 2 and out.wall_s > 2.5


def test_refused_and_fresh_connections_are_counted(load_server: tuple[LiveServer, str]) -> None:
    server, dsn = load_server
    good = bench_sync_load.add_kiosks(dsn, 4)
    out = run_load(server.url, [*good, "qrck_kio_not-a-token"], period=1.0, seconds=1.0, procs=1, fresh=True)
    assert dict(out.errors) == {"http 401": 1}
    assert out.connections_opened == 5 and out.stored == 4 * 3
    assert bench_sync_load.count_events(dsn) == 4 * 3
