"""How long a kiosk takes to drain a backlog (default 100,000 events) to a real central server.

A real `kiosk-server serve` process (PostgreSQL with durability on, in a throwaway cluster, when `initdb` is
installed; else or with --backend sqlite, SQLite), a real kiosk SQLite store with the backlog pending, and
`SyncClient.drain()` over HTTP on 127.0.0.1, as `kiosk sync --once` does it. Target: <= 20 s for 100k.

    .venv/bin/python benchmarks/bench_sync.py [--events 100000] [--batch 500] [--backend postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from kiosk.config import load_settings  # noqa: E402
from kiosk.store import Store  # noqa: E402
from sync.client import SyncClient  # noqa: E402
from sync.enroll import enroll  # noqa: E402
from tests.support.postgres import LiveServer, PgCluster, find_pg_bin  # noqa: E402
from tests.support.seed import bulk_load  # noqa: E402
from tests.support.sync_servers import FaultProxy, make_events  # noqa: E402


def drain_once(
    server: LiveServer, folder: Path, events: int, batch: int, in_flight: int = 2, url: str | None = None
) -> dict[str, float]:
    """Enrol a fresh kiosk, load `events` pending events, time the drain; check the server has them all."""
    venue = server.add_venue("Bench venue")
    enroll(server.url, server.add_kiosk(venue), folder / "kiosk.toml")
    token = load_settings(folder / "kiosk.toml").server.token
    backlog = make_events(events)
    with Store.open(folder / "kiosk.sqlite3") as store:
        bulk_load(store, backlog, outbox_state="pending")
        client = SyncClient(store, url or server.url, token, batch_size=batch, timeout=(5, 60), max_in_flight=in_flight)
        exchanges = _time_http(client)
        started = time.perf_counter()
        report = client.drain()  # what `kiosk sync --once` and the worker do
        elapsed = time.perf_counter() - started
        client.close()
    if report.error is not None or report.pending_left != 0:
        raise SystemExit(f"drain failed: {report.error}")
    stored = server.stored_uuids(venue)
    if sorted(stored) != sorted(event.uuid for event in backlog):
        raise SystemExit(f"server holds {len(stored)} events, expected exactly {events}")
    latencies = sorted(exchanges)
    return {
        "seconds": elapsed,
        "events_per_s": events / elapsed,
        "batch_median_ms": statistics.median(latencies) * 1000,
        "batch_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "batches": len(latencies),
        "http_share": sum(latencies) / elapsed,
    }


def _time_http(client: SyncClient) -> list[float]:
    """Wrap the client's sender to time each exchange (encoding, request sent, answer read)."""
    spent: list[float] = []
    request = client._post

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return request(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    client._post = timed  # type: ignore[method-assign]
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--in-flight", type=int, default=2, help="batches on the wire at once (1: no pipelining)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="add this much latency per exchange (a proxy on 127.0.0.1), like a WAN link",
    )
    args = parser.parse_args()
    backend = args.backend or ("postgresql" if find_pg_bin() else "sqlite")
    folder = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    cluster = None
    if backend == "postgresql":
        cluster = PgCluster(find_pg_bin(), fast=False).start()  # durability on: fsync, synchronous_commit
        db_url = cluster.create_database()
    else:
        db_url = f"sqlite:///{folder / 'server.db'}"
    server = LiveServer(db_url, log_path=folder / "server.log").start()
    proxy = None
    if args.latency_ms > 0:
        proxy = FaultProxy(server.url).__enter__()
        proxy.delay_s = args.latency_ms / 1000
    try:
        print(
            f"backend {backend}, {args.events} events, batch {args.batch}"
            + f", {args.in_flight} in flight"
            + (f", {args.latency_ms:g} ms added latency" if proxy else "")
        )
        runs = []
        for index in range(args.repeat):
            run_folder = folder / f"run{index}"
            run_folder.mkdir()
            result = drain_once(
                server, run_folder, args.events, args.batch, args.in_flight, proxy.url if proxy else None
            )
            runs.append(result)
            print(
                f"run {index + 1}: drained in {result['seconds']:.2f} s ({result['events_per_s']:.0f} events/s), "
                f"{result['batches']} batches, exchange median {result['batch_median_ms']:.1f} ms, "
                f"p99 {result['batch_p99_ms']:.1f} ms; on average {result['http_share']:.2f} exchanges on the wire"
            )
        best = min(run["seconds"] for run in runs)
        median = statistics.median(run["seconds"] for run in runs)
        verdict = "meets" if median <= 20 * args.events / 100_000 else "MISSES"
        print(f"median {median:.2f} s, best {best:.2f} s: {verdict} the target (100k in <= 20 s)")
    finally:
        if proxy is not None:
            proxy.__exit__(None, None, None)
        server.stop()
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
