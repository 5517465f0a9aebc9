"""Sync load (issue 13): N simulated kiosks on loopback, each posting a small batch of new events every `--period`
seconds (phases spread evenly over the period), against `kiosk-server serve --workers 4` on a durable PostgreSQL.

The load comes from `--client-procs` OS processes, each an asyncio loop over its share of the kiosks speaking raw
HTTP/1.1 (prebuilt header bytes, the body `sync.client` sends: `protocol.encode_batch` with the kiosk's status,
gzip'd), so that the client is not what gets measured (one asyncio+httpx process managed 5-14 batches/s). Kiosks
share a pool of keep-alive connections per process (`--connections`); `--fresh-connections` opens one per sync
instead, as a real kiosk does (the server closes a connection idle for 5 s, a kiosk syncs every 30 s).

Kiosks and their tokens are written straight into the database in one transaction: the rows `admin.add_kiosk` +
`admin.enroll` leave. `--http-enrol` of them are enrolled over HTTP instead (timed separately), and sync too.

Reported: requests, errors by kind (non-2xx, timeout > `--timeout`, connection), latency p50/p95/p99/max per
request (from taking a connection to the last byte of the answer), achieved vs intended requests/s, how late the
client started requests (its own lag) and its CPU per process, server CPU and PostgreSQL CPU per request, each
worker's RSS, the rows that landed against the events acknowledged, and /proc/loadavg at start and end.

    nice -n 5 python benchmarks/bench_sync_load.py --kiosks 10000 --period 30 --seconds 120
    python benchmarks/bench_sync_load.py --kiosks 500 --period 5 --seconds 30     # a dev run
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import multiprocessing
import os
import resource
import sys
import time
import uuid
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.events import Direction, NewEvent  # noqa: E402
from sync import protocol  # noqa: E402
from sync.protocol_status import KioskStatus  # noqa: E402

IDLE_REUSE_S = 4.0  # a pooled connection idle longer is dropped: the server closes them after 5 s
NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Minh Dũng")


@dataclass(frozen=True)
class Plan:
    """What one client process runs: its kiosks' tokens and phases, and the shared schedule."""

    host: str
    port: int
    tokens: list[str]
    phases: list[float]  # seconds after `start_at` of each kiosk's first sync
    start_at: float  # wall clock (time.time()): the same instant in every process
    seconds: float
    period: float
    events: int
    connections: int
    fresh: bool
    timeout: float


@dataclass
class Outcome:
    """What one client process measured."""

    latencies: list[float] = field(default_factory=list)  # seconds, the 2xx answers
    errors: Counter[str] = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)  # seconds each request started after its planned time
    events_sent: int = 0
    stored: int = 0  # events the server answered "stored"
    cpu_s: float = 0.0
    wall_s: float = 0.0
    connections_opened: int = 0
    cpu_percent: list[float] = field(default_factory=list)  # per client process, of one core

    def merge(self, other: Outcome) -> None:
        self.latencies += other.latencies
        self.errors.update(other.errors)
        self.lags += other.lags
        self.events_sent += other.events_sent
        self.stored += other.stored
        self.connections_opened += other.connections_opened


# --- the client process --------------------------------------------------------------------------------------------


class HttpError(Exception):
    """A failed exchange; `kind` is how it is counted."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = time.monotonic()

    def usable(self) -> bool:
        return not self.reader.at_eof() and time.monotonic() - self.idle_since < IDLE_REUSE_S

    def close(self) -> None:
        self.writer.close()


class Pool:
    """At most `limit` connections to the server; idle ones reused oldest first (they spread over the workers)."""

    def __init__(self, host: str, port: int, limit: int, fresh: bool) -> None:
        self.host, self.port, self.fresh = host, port, fresh
        self.slots = asyncio.Semaphore(limit)
        self.idle: deque[Connection] = deque()
        self.opened = 0

    async def warm(self, count: int) -> None:
        """Open `count` connections up front, so that keep-alive traffic is spread over the workers from the start."""
        for each in await asyncio.gather(*(self._open() for _ in range(count))):
            self.idle.append(each)

    async def _open(self) -> Connection:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise HttpError(f"connect: {type(exc).__name__}") from None
        self.opened += 1
        return Connection(reader, writer)

    async def take(self) -> Connection:
        await self.slots.acquire()
        while self.idle:
            each = self.idle.popleft()
            if each.usable():
                return each
            each.close()
        try:
            return await self._open()
        except BaseException:
            self.slots.release()
            raise

    def give_back(self, conn: Connection, reusable: bool) -> None:
        if reusable and not self.fresh:
            conn.idle_since = time.monotonic()
            self.idle.append(conn)
        else:
            conn.close()
        self.slots.release()


def request_head(host: str, port: int, token: str) -> bytes:
    """The request line and headers `sync.transport` (requests) sends, but Content-Length (added per request)."""
    return (
        f"POST {protocol.EVENTS_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: qr-checkpoint-kiosk/1\r\n"
        "Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
    ).encode()


def batch_body(count: int, serial: int) -> bytes:
    """`count` events never sent before, as the kiosk's sync client encodes and compresses them."""
    now = datetime.now(UTC)
    events = [
        NewEvent(
            direction=Direction.ENTRY if i % 2 == 0 else Direction.EXIT,
            credential="cccd",
            person_key=f"pk-079{serial % 10**9:09d}",
            id_number=f"079{serial % 10**9:09d}",
            full_name=NAMES[(serial + i) % len(NAMES)],
            date_of_birth=None,
            wall_time=now - timedelta(seconds=5 * (count - i)),
            monotonic_ns=time.monotonic_ns(),
            uuid=str(uuid.uuid4()),
        )
        for i in range(count)
    ]
    status = KioskStatus(software_version="bench", pending=0, refused=0, clock_offset_s=0.0, ages_s={}).to_json()
    return protocol.gzip_body(protocol.encode_batch(events, now, status))


async def exchange(conn: Connection, message: bytes) -> tuple[int, bytes, bool]:
    """Send one request, read its answer: (status, body, whether the connection may be reused)."""
    conn.writer.write(message)
    try:
        await conn.writer.drain()
        head = await conn.reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise HttpError(f"connection: {type(exc).__name__}") from None
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    try:
        body = await conn.reader.readexactly(int(headers.get("content-length", "0")))
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise HttpError(f"connection: {type(exc).__name__}") from None
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return status, body, headers.get("connection", "").lower() != "close"


async def one_sync(pool: Pool, head: bytes, plan: Plan, serial: int, out: Outcome) -> None:
    body = batch_body(plan.events, serial)
    message = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    out.events_sent += plan.events
    started = time.perf_counter()
    conn: Connection | None = None
    try:
        async with asyncio.timeout(plan.timeout):
            conn = await pool.take()
            status, answer, reusable = await exchange(conn, message)
    except TimeoutError:
        out.errors["timeout"] += 1
    except HttpError as exc:
        out.errors[exc.kind] += 1
    else:
        if not 200 <= status < 300:
            out.errors[f"http {status}"] += 1
        else:
            out.latencies.append(time.perf_counter() - started)
            results = json.loads(answer)["results"]
            stored = sum(1 for each in results if each["status"] == protocol.EventStatus.STORED)
            out.stored += stored
            if stored != plan.events:
                out.errors["answered but not all stored"] += 1
        pool.give_back(conn, reusable)
        return
    if conn is not None:
        pool.give_back(conn, False)  # an exchange cut short leaves the connection in an unknown state


async def kiosk_loop(pool: Pool, index: int, plan: Plan, out: Outcome, tasks: set[asyncio.Task[None]]) -> None:
    """One kiosk: a sync every period from its phase on, each in its own task (a slow answer delays no other)."""
    head = request_head(plan.host, plan.port, plan.tokens[index])
    planned = plan.start_at + plan.phases[index]
    end = plan.start_at + plan.seconds
    serial = index * 1_000_000
    while planned < end:
        await asyncio.sleep(max(0.0, planned - time.time()))
        out.lags.append(time.time() - planned)
        task = asyncio.create_task(one_sync(pool, head, plan, serial, out))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        serial += 1
        planned += plan.period


async def run_plan(plan: Plan) -> Outcome:
    out = Outcome()
    pool = Pool(plan.host, plan.port, plan.connections, plan.fresh)
    if not plan.fresh:
        await pool.warm(min(plan.connections, len(plan.tokens)))
    await asyncio.sleep(max(0.0, plan.start_at - time.time()))
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    tasks: set[asyncio.Task[None]] = set()
    await asyncio.gather(*(kiosk_loop(pool, i, plan, out, tasks) for i in range(len(plan.tokens))))
    if tasks:
        await asyncio.wait(set(tasks))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    out.cpu_s = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    out.wall_s = time.monotonic() - wall0
    out.connections_opened = pool.opened
    while pool.idle:
        pool.idle.popleft().close()
    return out


def raise_open_files(needed: int) -> int:
    """Raise the soft limit of open files to cover `needed` sockets (up to the hard limit); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed + 256 if hard == resource.RLIM_INFINITY else min(hard, needed + 256)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        return wanted
    return soft


def client_process(plan: Plan) -> Outcome:
    """The body of one client OS process."""
    raise_open_files(plan.connections if not plan.fresh else len(plan.tokens))
    return asyncio.run(run_plan(plan))


def run_load(
    url: str,
    tokens: list[str],
    *,
    period: float,
    seconds: float,
    procs: int = 2,
    events: int = 3,
    connections: int = 64,
    fresh: bool = False,
    timeout: float = 10.0,
) -> Outcome:
    """Every kiosk of `tokens` syncing every `period` s for `seconds`, from `procs` processes; merged outcome."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    step = period / max(1, len(tokens))
    phases = [i * step for i in range(len(tokens))]  # uniform over the period; dealt round-robin to processes
    start_at = time.time() + 2.0 + 0.002 * connections * procs  # every process ready, its pool warm
    plans = [
        Plan(
            host,
            int(port),
            tokens[p::procs],
            phases[p::procs],
            start_at,
            seconds,
            period,
            events,
            connections,
            fresh,
            timeout,
        )
        for p in range(procs)
    ]
    with ThreadPoolExecutor(procs) as threads, multiprocessing.get_context("spawn").Pool(procs) as workers:
        outcomes = list(threads.map(lambda plan: workers.apply(client_process, (plan,)), plans))
    total = Outcome()
    for each in outcomes:
        total.merge(each)
    total.wall_s = max(each.wall_s for each in outcomes)
    total.cpu_percent = [round(100 * each.cpu_s / each.wall_s, 1) if each.wall_s else 0.0 for each in outcomes]
    return total


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


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def server_workers(pid: int) -> list[int]:
    """The uvicorn worker processes of a `serve --workers N` (not multiprocessing's resource tracker)."""
    workers = []
    for child in children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(child)
        except OSError:
            continue
    return workers or [pid]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (those that exited count nothing)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def postgres_pids(cluster: Any) -> list[int]:
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    return [postmaster, *children(postmaster)]


def count_events(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])  # type: ignore[index]


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


# --- the run ------------------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summary(out: Outcome, args: argparse.Namespace, server: dict[str, Any]) -> dict[str, Any]:
    requests = len(out.latencies) + sum(out.errors.values())
    return {
        "kiosks": args.kiosks,
        "period_s": args.period,
        "seconds": args.seconds,
        "server_workers": args.workers,
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


def print_human(result: dict[str, Any]) -> None:
    print(
        f"SYNC LOAD {result['kiosks']:,} kiosks every {result['period_s']:g} s for {result['seconds']:g} s, "
        f"{result['server_workers']} workers, {result['client_procs']} client processes "
        f"(connections: {result['connections_per_proc']})"
    )
    print(
        f"  requests {result['requests']:,} ({result['achieved_rps']} /s, intended {result['intended_rps']} /s), "
        f"errors {result['errors']} {result['errors_by_kind'] or ''}"
    )
    print(
        f"  latency p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, "
        f"max {result['max_ms']} ms"
    )
    print(
        f"  client: CPU {result['client_cpu_percent']} % of a core per process, lag p99 "
        f"{result['client_lag_p99_ms']} ms (max {result['client_lag_max_ms']} ms)"
    )
    print(
        f"  server: CPU {result['server_cpu_ms_per_request']} ms/request, PostgreSQL CPU "
        f"{result['postgres_cpu_ms_per_request']} ms/request; worker RSS MB before {result['worker_rss_mb_before']}"
        f", after {result['worker_rss_mb_after']}"
    )
    print(
        f"  events sent {result['events_sent']:,}, answered stored {result['events_stored_answered']:,}, rows "
        f"landed {result['rows_landed']:,}"
    )
    print(f"  loadavg start {result['loadavg_start']} | end {result['loadavg_end']}")


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
        server = LiveServer(url, extra_args=("--workers", str(args.workers)), log_path=Path("/tmp/bench_sync_load.log"))
        server.start(timeout=120)
        if args.http_enrol:
            enrolled, seconds = enrol_over_http(server, args.http_enrol)
            tokens += enrolled
            print(f"[setup] {len(enrolled)} kiosks enrolled over HTTP (16 threads): {seconds:.1f} s")
        assert server.process is not None
        workers = server_workers(server.process.pid)
        rss_before = [round(rss_mb(pid)) for pid in workers]
        rows_before = count_events(dsn)
        server_cpu0, pg_cpu0 = cpu_s(workers), cpu_s(postgres_pids(cluster))
        out = run_load(
            server.url, tokens, period=args.period, seconds=args.seconds, procs=args.client_procs,
            events=args.events, connections=args.connections, fresh=args.fresh_connections, timeout=args.timeout,
        )  # fmt: skip
        server_cpu, pg_cpu = cpu_s(workers) - server_cpu0, cpu_s(postgres_pids(cluster)) - pg_cpu0
        requests = max(1, len(out.latencies) + sum(out.errors.values()))
        server_side = {
            "server_cpu_ms_per_request": round(1000 * server_cpu / requests, 2),
            "postgres_cpu_ms_per_request": round(1000 * pg_cpu / requests, 2),
            "worker_rss_mb_before": rss_before,
            "worker_rss_mb_after": [round(rss_mb(pid)) for pid in workers],
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
