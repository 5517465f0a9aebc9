"""Sync load (issue 13): N simulated kiosks on loopback, each posting a small batch of new events every `--period`
seconds (phases spread evenly over the period), against `kiosk-server serve --workers 4` on a durable PostgreSQL.

The load comes from `--client-procs` OS processes speaking raw HTTP/1.1 (`sync_load_client`), so that the client
is not what gets measured (one asyncio + httpx process managed 5-14 batches/s). Kiosks and their tokens are
written straight into the database in one transaction: the rows `admin.add_kiosk` + `admin.enroll` leave;
`--http-enrol` of them are enrolled over HTTP instead (timed apart), and sync as the others.

Reported: requests, errors by kind, latency p50/p95/p99/max, achieved vs intended requests/s, the client's lag
and CPU per process, machine CPU busy, server and PostgreSQL CPU per request, each worker's RSS before and after,
the rows that landed against the events answered "stored", and /proc/loadavg at start and end; a JSON line last.

    nice -n 5 python benchmarks/bench_sync_load.py --kiosks 10000 --period 30 --seconds 120
    python benchmarks/bench_sync_load.py --kiosks 500 --period 5 --seconds 30     # a dev run

    nice -n 5 python benchmarks/bench_sync_load.py --kiosks 5000 --serve-option=--http=h11 --serve-option=--loop=asyncio

Measured 2026-12-06 on 2 shared cores (steal < 1.5 %), httptools + uvloop, 10,000 kiosks / 30 s for 120 s,
12 runs with the ingest gate (2 or 4 workers, 2-8 slots): 0 errors in every one; p99 353-447 ms in 5, 538 ms to
8.6 s in 7, over 500 ms whenever the machine was >= 87 % busy. The server before the gate (503 at the 17th batch
in flight): 7,102-19,722 errors of 40,000. A sync costs the server ~3-3.9 ms of CPU and PostgreSQL ~1 ms; the
client ~12 % of a core per process. Figures move with the machine's neighbours: compare variants within one
session, interleaved (docs/benchmarks.md, "Waiting instead of refusing").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_server import pct  # noqa: E402  (run as a script: its folder is on the path)
from proc_stats import children, loadavg, machine_cpu_s, machine_steal_s, proc_cpu_s, proc_memory_mb  # noqa: E402
from sync_load_client import Outcome, run_load  # noqa: E402

# --- the server side: kiosks, processes, counts ------------------------------------------------------------------


def add_kiosks(dsn: str, count: int, per_venue: int = 5) -> list[str]:
    """`count` enrolled kiosks (`per_venue` a venue) and their bearer tokens, in one transaction: the rows that
    `admin.add_kiosk` then `admin.enroll` write, without 2 x `count` commits."""
    import psycopg

    from server.auth import hash_secret, new_token

    now = datetime.now(UTC)
    tokens = [new_token("kiosk") for _ in range(count)]
    venues = max(1, -(-count // per_venue))
    with psycopg.connect(dsn) as conn:
        first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM venues").fetchone()[0]  # type: ignore[index]
        last = first + venues - 1
        conn.execute(
            "INSERT INTO venues (id, name, created_at, station_config) SELECT g, 'Load venue ' || g, %s, '{}' "
            "FROM generate_series(%s::int, %s::int) g",
            (now, first, last),
        )
        conn.execute("SELECT setval(pg_get_serial_sequence('venues', 'id'), %s)", (last,))
        kiosks = conn.execute(
            "INSERT INTO kiosks (venue_id, name, created_at, enrolled_at) SELECT %s::int + (g - 1) / %s::int, '', "
            "%s, %s FROM generate_series(1, %s::int) g RETURNING id, venue_id",
            (first, per_venue, now, now, count),
        ).fetchall()
        with (
            conn.cursor() as cur,
            cur.copy("COPY tokens (token_hash, role, venue_id, kiosk_id, name, created_at) FROM STDIN") as copy,
        ):
            for token, (kiosk_id, venue_id) in zip(tokens, kiosks, strict=True):
                copy.write_row((hash_secret(token), "kiosk", venue_id, kiosk_id, f"kiosk {kiosk_id}", now))
    return tokens


def enrol_over_http(server: Any, count: int, threads: int = 16) -> tuple[list[str], float]:
    """`count` kiosks added as the operator does and enrolled over HTTP in parallel: (tokens, seconds)."""
    venue = server.add_venue("HTTP-enrolled kiosks")
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        tokens = list(pool.map(lambda _: server.enroll(venue), range(count)))
    return tokens, time.perf_counter() - started


def server_workers(pid: int) -> list[int]:
    """The uvicorn worker processes of a `serve --workers N` (not multiprocessing's resource tracker)."""
    return [child for child in children(pid) if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


class CpuSampler:
    """CPU seconds used by a changing set of processes (PostgreSQL's backends come and go with the pools): each
    process's latest reading is kept every `every` s, so one that exits still counts up to its last sample."""

    def __init__(self, pids: Callable[[], list[int]], every: float = 0.5) -> None:
        self.pids, self.every = pids, every
        self.first: dict[int, float] = {pid: proc_cpu_s(pid) for pid in pids()}
        self.last = dict(self.first)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            for pid in self.pids():
                self.last[pid] = max(self.last.get(pid, 0.0), proc_cpu_s(pid))

    def stop(self) -> float:
        self.stopping.set()
        self.thread.join()
        return sum(seconds - self.first.get(pid, 0.0) for pid, seconds in self.last.items())


def pressure_us() -> dict[str, int]:
    """Microseconds some task waited for a CPU / for I/O since boot (/proc/pressure; empty without PSI)."""
    stalls = {}
    for kind in ("cpu", "io"):
        try:
            first = Path(f"/proc/pressure/{kind}").read_text().split("\n", 1)[0]
        except OSError:
            continue
        stalls[kind] = int(first.rsplit("total=", 1)[1])
    return stalls


def postgres_pids(cluster: Any) -> list[int]:
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    return [postmaster, *children(postmaster)]


def count_events(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])  # type: ignore[index]


# --- the run ------------------------------------------------------------------------------------------------------


def summary(out: Outcome, args: argparse.Namespace, server: dict[str, Any]) -> dict[str, Any]:
    requests = len(out.latencies) + sum(out.errors.values())
    return {
        "kiosks": args.kiosks,
        "period_s": args.period,
        "seconds": args.seconds,
        "server_workers": args.workers,
        "serve_options": args.serve_option,
        "client_procs": args.client_procs,
        "connections_per_proc": "fresh per sync" if args.fresh_connections else args.connections,
        "requests": requests,
        "ok": len(out.latencies),
        "errors": sum(out.errors.values()),
        "errors_by_kind": dict(out.errors),
        "p50_ms": round(pct(out.latencies, 0.50) * 1000, 1),
        "p95_ms": round(pct(out.latencies, 0.95) * 1000, 1),
        "p99_ms": round(pct(out.latencies, 0.99) * 1000, 1),
        "max_ms": round(max(out.latencies, default=0.0) * 1000, 1),
        "intended_rps": round(args.kiosks / args.period, 1),
        "achieved_rps": round(requests / out.wall_s, 1) if out.wall_s else 0.0,
        "client_lag_p99_ms": round(pct(out.lags, 0.99) * 1000, 1),
        "client_lag_max_ms": round(max(out.lags, default=0.0) * 1000, 1),
        "client_cpu_percent": out.cpu_percent,
        "connections_opened": out.connections_opened,
        "events_sent": out.events_sent,
        "events_stored_answered": out.stored,
        **server,
    }


def print_human(r: dict[str, Any]) -> None:
    print(
        f"SYNC LOAD {r['kiosks']:,} kiosks every {r['period_s']:g} s for {r['seconds']:g} s, {r['server_workers']} "
        f"workers{''.join(' ' + option for option in r['serve_options'])}, {r['client_procs']} client processes "
        f"(connections each: {r['connections_per_proc']})\n"
        f"  requests {r['requests']:,} ({r['achieved_rps']} /s, intended {r['intended_rps']} /s), errors "
        f"{r['errors']} {r['errors_by_kind'] or ''}\n"
        f"  latency p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms\n"
        f"  client CPU {r['client_cpu_percent']} % of a core per process, its lag p99 {r['client_lag_p99_ms']} ms "
        f"(max {r['client_lag_max_ms']} ms); machine CPU busy {r['machine_busy_percent']} % of {r['cpus']} CPUs "
        f"(stolen by the hypervisor: {r['machine_steal_percent']} %), time some task waited "
        f"(PSI) {r['pressure_some_percent']} %\n"
        f"  server CPU {r['server_cpu_ms_per_request']} ms/request, PostgreSQL CPU "
        f"{r['postgres_cpu_ms_per_request']} ms/request; worker RSS MB before {r['worker_rss_mb_before']}, after "
        f"{r['worker_rss_mb_after']}\n"
        f"  events sent {r['events_sent']:,}, answered stored {r['events_stored_answered']:,}, rows landed "
        f"{r['rows_landed']:,}\n"
        f"  loadavg start {r['loadavg_start']} | end {r['loadavg_end']}"
    )


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiosks", type=int, default=10_000)
    parser.add_argument("--period", type=float, default=30.0, help="seconds between a kiosk's syncs")
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the load lasts")
    parser.add_argument("--events", type=int, default=3, help="new events per batch")
    parser.add_argument("--workers", type=int, default=4, help="server worker processes")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections per client process")
    parser.add_argument("--fresh-connections", action="store_true", help="a new connection per sync")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a request counts as an error")
    parser.add_argument("--http-enrol", type=int, default=100, help="kiosks (of --kiosks) enrolled over HTTP")
    parser.add_argument(
        "--serve-option",
        action="append",
        default=[],
        metavar="OPTION",
        help="passed on to `kiosk-server serve`, e.g. --serve-option=--http=h11 --serve-option=--loop=asyncio",
    )
    return parser.parse_args()


def main() -> None:
    from server.db import open_database
    from tests.support.postgres import LiveServer, PgCluster, find_pg_bin

    args = options()
    bin_dir = find_pg_bin()
    if bin_dir is None:
        sys.exit("PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin)")
    started_load = loadavg()
    cluster = PgCluster(bin_dir, fast=False, settings={"shared_buffers": "512MB", "max_connections": "200"}).start()
    server = None
    try:
        url = cluster.create_database("load")
        open_database(url).dispose()  # migrated
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        t0 = time.perf_counter()
        tokens = add_kiosks(dsn, args.kiosks - args.http_enrol)
        print(f"[setup] {len(tokens):,} kiosks + tokens written in one transaction: {time.perf_counter() - t0:.1f} s")
        server = LiveServer(
            url,
            extra_args=("--workers", str(args.workers), *args.serve_option),
            log_path=Path("/tmp/bench_sync_load.log"),
        )
        server.start(timeout=120)
        if args.http_enrol:
            enrolled, seconds = enrol_over_http(server, args.http_enrol)
            tokens += enrolled
            print(f"[setup] {len(enrolled)} kiosks enrolled over HTTP (16 threads): {seconds:.1f} s")
        assert server.process is not None
        workers = server_workers(server.process.pid)
        rss_before, rows_before = [round(proc_memory_mb(pid)["rss"]) for pid in workers], count_events(dsn)
        server_cpu, pg_cpu = CpuSampler(lambda: workers), CpuSampler(lambda: postgres_pids(cluster))
        busy0, total0 = machine_cpu_s()
        steal0 = machine_steal_s()
        stalls0, wall0 = pressure_us(), time.monotonic()
        out = run_load(
            server.url, tokens, period=args.period, seconds=args.seconds, procs=args.client_procs,
            events=args.events, connections=args.connections, fresh=args.fresh_connections, timeout=args.timeout,
        )  # fmt: skip
        busy1, total1 = machine_cpu_s()
        stolen = machine_steal_s() - steal0
        stalls, wall = pressure_us(), time.monotonic() - wall0
        requests = max(1, len(out.latencies) + sum(out.errors.values()))
        server_side = {
            "server_cpu_ms_per_request": round(1000 * server_cpu.stop() / requests, 2),
            "postgres_cpu_ms_per_request": round(1000 * pg_cpu.stop() / requests, 2),
            "machine_busy_percent": round(100 * (busy1 - busy0) / max(1e-9, total1 - total0), 1),
            "machine_steal_percent": round(100 * stolen / max(1e-9, total1 - total0), 1),
            "pressure_some_percent": {k: round(100 * (v - stalls0[k]) / 1e6 / wall, 1) for k, v in stalls.items()},
            "worker_rss_mb_before": rss_before,
            "worker_rss_mb_after": [round(proc_memory_mb(pid)["rss"]) for pid in workers],
            "rows_landed": count_events(dsn) - rows_before,
            "loadavg_start": started_load,
            "loadavg_end": loadavg(),
            "cpus": os.cpu_count(),
        }
        result = summary(out, args, server_side)
        print_human(result)
        print(json.dumps(result))
    finally:
        if server is not None:
            server.stop()
        cluster.stop()


if __name__ == "__main__":
    main()
