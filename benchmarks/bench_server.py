"""Central-server benchmarks on a real PostgreSQL (a throwaway cluster with durable settings, unless --db).

1. HTTP ingest: a `kiosk-server serve` process (1 and 2 uvicorn workers), kiosks pushing gzip batches of 500
   events from several threads; events/s and per-batch latency (median, p99).
2. Raw insert: the server's own ingest function (INSERT ... ON CONFLICT DO NOTHING RETURNING), batches of 500,
   no HTTP; events/s.
3. Tracing at scale: N events (default 10M) loaded with COPY (indexes built after the load), then traces of
   random people over a 14-day window; median / p99 / max time, cold (first) and warm.

    python benchmarks/bench_server.py                 # everything, 10M events for tracing
    python benchmarks/bench_server.py --trace-events 1000000 --skip-http
"""

from __future__ import annotations

import argparse
import http.client
import io
import random
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proc_stats import machine_busy_s  # noqa: E402  (run as a script: its folder is on the path)

from kiosk.events import Direction, NewEvent  # noqa: E402
from sync import protocol  # noqa: E402
from tests.support.postgres import LiveServer, start_benchmark_cluster  # noqa: E402

NAMES = ("Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Đức", "Phạm Thu Hương", "Võ Minh Khôi", "Đặng Thị Lan")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def synthetic_events(count: int, seed: int) -> list[NewEvent]:
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=1)
    out = []
    for i in range(count):
        person = rng.randrange(1_000_000)
        id_number = f"079{person:09d}"
        out.append(
            NewEvent(
                direction=Direction.ENTRY if i % 2 == 0 else Direction.EXIT,
                credential="cccd",
                person_key=id_number,
                id_number=id_number,
                full_name=NAMES[person % len(NAMES)],
                date_of_birth=None,
                wall_time=start + timedelta(seconds=i),
                monotonic_ns=i * 1000,
                uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            )
        )
    return out


# --- 1. HTTP ingest ----------------------------------------------------------------------------------------------


def bench_http(db_url: str, workers: int, total: int, batch: int, threads: int) -> dict[str, float]:
    server = LiveServer(db_url, extra_args=("--workers", str(workers)), log_path=Path("/tmp/bench_server.log"))
    server.start(timeout=60)
    try:
        venue = server.add_venue("Bench venue")
        tokens = [server.enroll(venue) for _ in range(threads)]
        events = synthetic_events(total, seed=workers)
        bodies = [
            protocol.gzip_body(protocol.encode_batch(events[i : i + batch], datetime.now(UTC)))
            for i in range(0, total, batch)
        ]  # encoded beforehand: measure the server, not the client
        latencies: list[float] = []
        lock = threading.Lock()
        address = urlsplit(server.url)

        def push(index: int) -> None:
            # The kiosks are other machines: here they share this one's two cores with the server, so they are
            # stdlib http.client on one keep-alive connection each (httpx spent ~17 ms of CPU per batch of 500,
            # a quarter of the machine, reading the 30 KB answer).
            headers = {
                "Authorization": f"Bearer {tokens[index % threads]}",
                "Content-Encoding": "gzip",
                "Content-Type": "application/json",
            }
            connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
            try:
                for body in bodies[index::threads]:
                    t0 = time.perf_counter()
                    connection.request("POST", protocol.EVENTS_PATH, body=body, headers=headers)
                    answer = connection.getresponse()
                    content = answer.read()
                    elapsed = time.perf_counter() - t0
                    if answer.status != 200:
                        raise RuntimeError(f"HTTP {answer.status}: {content[:200]!r}")
                    with lock:
                        latencies.append(elapsed)
            finally:
                connection.close()

        t0, busy = time.perf_counter(), machine_busy_s()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(push, range(threads)))
        wall, busy = time.perf_counter() - t0, machine_busy_s() - busy
        stored = len(set(server.stored_uuids(venue)))
        assert stored == total, f"stored {stored} of {total}"
        return {
            "events_per_s": total / wall,
            "cpu_us_per_event": busy / total * 1e6,  # the whole machine: workers, PostgreSQL and the 8 clients
            "batch_ms_median": statistics.median(latencies) * 1000,
            "batch_ms_p99": pct(latencies, 0.99) * 1000,
            "seconds": wall,
        }
    finally:
        server.stop()


# --- 2. raw insert -----------------------------------------------------------------------------------------------


def bench_raw(db_url: str, total: int, batch: int) -> dict[str, float]:
    from server import admin
    from server.auth import Principal
    from server.db import open_database
    from server.ingest import ingest

    engine = open_database(db_url)
    venue = admin.add_venue(engine, "Raw bench")
    kiosk_id, _ = admin.add_kiosk(engine, venue)
    principal = Principal("kiosk", venue, kiosk_id)
    events = synthetic_events(total, seed=99)
    batches = [
        protocol.Batch(kiosk_time=datetime.now(UTC), events=tuple(events[i : i + batch]))
        for i in range(0, total, batch)
    ]
    t0 = time.perf_counter()
    for item in batches:
        ingest(engine, item, principal, datetime.now(UTC))
    wall = time.perf_counter() - t0
    t1 = time.perf_counter()
    again = ingest(engine, batches[0], principal, datetime.now(UTC))  # all duplicates
    dup_ms = (time.perf_counter() - t1) * 1000
    assert {r.status for r in again.results} == {"duplicate"}
    engine.dispose()
    return {"events_per_s": total / wall, "duplicate_batch_ms": dup_ms}


# --- 3. tracing at scale -----------------------------------------------------------------------------------------

VENUES = 2000
DAYS = 30
START = datetime(2021, 8, 1, tzinfo=UTC)


def _time_text(minute: int, cache: dict[int, str]) -> str:
    text = cache.get(minute)
    if text is None:
        text = (START + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:00+00")
        cache[minute] = text
    return text


def generate_copy_chunks(n_events: int, people: int, seed: int, chunk_rows: int = 200_000):
    """COPY text for about n_events events: visits (entry + exit, 10% without exit) by random people."""
    rng = random.Random(seed)
    cache: dict[int, str] = {}
    buffer = io.StringIO()
    rows = 0
    counter = 0
    minutes = DAYS * 24 * 60 - 6 * 60
    while rows < n_events:
        person = rng.randrange(people)
        venue = rng.randrange(1, VENUES + 1)
        entry = rng.randrange(minutes)
        stay = rng.randrange(15, 180)
        id_number = f"079{person:09d}"
        name = NAMES[person % len(NAMES)]
        kiosk = venue
        stamps = [("entry", entry)] + ([("exit", entry + stay)] if rng.random() < 0.9 else [])
        for direction, minute in stamps:
            counter += 1
            when = _time_text(minute, cache)
            buffer.write(
                f"{venue}\t{uuid.UUID(int=counter)}\t{kiosk}\t{direction}\tcccd\t{id_number}\t{id_number}\t"
                f"{name}\t\\N\t{when}\t{when}\t0\t0\tscan\t[]\t{{}}\t{when}\n"
            )
            rows += 1
        if rows >= chunk_rows * (1 + counter // chunk_rows) or buffer.tell() > 40_000_000:
            yield buffer.getvalue().encode()
            buffer = io.StringIO()
    yield buffer.getvalue().encode()


def load_events(cluster_url: str, n_events: int, people: int) -> dict[str, float]:
    """Fresh schema through the migrations (day partitions made for the month), indexes dropped, COPY,
    indexes rebuilt; returns timings. Exactly-once (`event_uuids`) is not loaded: tracing does not read it."""
    import psycopg

    from server.db import open_database
    from server.partitions import ensure_days

    engine = open_database(cluster_url)
    ensure_days(engine, [START.date() + timedelta(days=n) for n in range(DAYS + 1)])  # day partitions (0006)
    engine.dispose()
    dsn = cluster_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO venues (id, name, created_at, station_config) SELECT g, 'Venue ' || g, now(), '{}' "
            "FROM generate_series(1, %s) g ON CONFLICT DO NOTHING",
            (VENUES,),
        )
        conn.execute("DROP INDEX ix_events_person_time")
        conn.execute("DROP INDEX ix_events_venue_time")
        t0 = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY events (venue_id, uuid, kiosk_id, direction, credential, person_key, id_number, full_name, "
                "date_of_birth, wall_time, corrected_time, clock_offset_ms, monotonic_ns, source, flags, details, "
                "received_at) FROM STDIN"
            ) as copy,
        ):
            for chunk in generate_copy_chunks(n_events, people, seed=7):
                copy.write(chunk)
        copy_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("CREATE INDEX ix_events_person_time ON events (id_number, corrected_time)")
        conn.execute("CREATE INDEX ix_events_venue_time ON events (venue_id, corrected_time)")
        conn.execute("VACUUM ANALYZE events")
        index_s = time.perf_counter() - t1
        count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        size = conn.execute(  # a partitioned parent holds nothing itself: its day partitions do
            "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits"
            " WHERE inhparent = 'events'::regclass"
        ).fetchone()[0]
    return {"events": count, "copy_s": copy_s, "copy_rows_per_s": count / copy_s, "index_s": index_s, "size": size}


def bench_trace(cluster_url: str, people: int, samples: int) -> dict[str, float]:
    from server.db import open_database
    from server.tracing import TraceSettings, trace, trace_json

    engine = open_database(cluster_url)
    rng = random.Random(11)
    times: list[float] = []
    visits = contacts = 0
    start = START + timedelta(days=10)
    end = start + timedelta(days=14)
    settings = TraceSettings()
    for i in range(samples):
        id_number = f"079{rng.randrange(people):09d}"
        t0 = time.perf_counter()
        with engine.connect() as conn:
            report = trace_json(conn, id_number, start, end, settings, trace(conn, id_number, start, end, settings))
        times.append(time.perf_counter() - t0)
        if i == 0:
            first = times[0]
        visits += len(report["visits"])
        contacts += report["contact_count"]
    engine.dispose()
    return {
        "first_ms": first * 1000,
        "median_ms": statistics.median(times) * 1000,
        "p99_ms": pct(times, 0.99) * 1000,
        "max_ms": max(times) * 1000,
        "avg_visits": visits / samples,
        "avg_contacts": contacts / samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--http-events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--raw-events", type=int, default=100_000)
    parser.add_argument("--trace-events", type=int, default=10_000_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each ingest measurement (median shown)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-trace", action="store_true")
    args = parser.parse_args()

    cluster = start_benchmark_cluster()
    try:
        if not args.skip_http:
            targets = [("PostgreSQL", 1), ("PostgreSQL", 2), ("SQLite", 1)]
            for kind, workers in targets:
                runs = []
                for _ in range(args.repeat):
                    url = (
                        cluster.fresh_url()
                        if kind == "PostgreSQL"
                        else f"sqlite:///{cluster.root}/bench-{uuid.uuid4().hex}.db"
                    )
                    runs.append(bench_http(url, workers, args.http_events, args.batch, args.threads))
                rates = sorted(r["events_per_s"] for r in runs)
                mid = sorted(runs, key=lambda r: r["events_per_s"])[len(runs) // 2]
                print(
                    f"HTTP ingest, {kind}, {workers} worker(s), batches of {args.batch}, {args.threads} kiosks: "
                    f"median {mid['events_per_s']:,.0f} events/s over {args.repeat} runs "
                    f"(range {rates[0]:,.0f}-{rates[-1]:,.0f}); batch latency median {mid['batch_ms_median']:.0f} ms, "
                    f"p99 {mid['batch_ms_p99']:.0f} ms ({args.http_events:,} events per run)"
                )
            raws = [bench_raw(cluster.fresh_url(), args.raw_events, args.batch) for _ in range(args.repeat)]
            raw = sorted(raws, key=lambda r: r["events_per_s"])[len(raws) // 2]
            print(
                f"raw ingest() on PostgreSQL (no HTTP), batches of {args.batch}: median {raw['events_per_s']:,.0f} "
                f"events/s over {args.repeat} runs; an all-duplicate batch: {raw['duplicate_batch_ms']:.0f} ms"
            )
        if not args.skip_trace:
            url = cluster.create_database("trace")
            loaded = load_events(url, args.trace_events, args.people)
            print(
                f"loaded {loaded['events']:,} events with COPY in {loaded['copy_s']:.0f} s "
                f"({loaded['copy_rows_per_s']:,.0f} rows/s); indexes + analyze {loaded['index_s']:.0f} s; "
                f"table + indexes {loaded['size']}"
            )
            result = bench_trace(url, args.people, args.samples)
            print(
                f"trace (14-day window, {args.samples} random people, {result['avg_visits']:.1f} visits and "
                f"{result['avg_contacts']:.1f} contacts on average): first {result['first_ms']:.1f} ms, "
                f"median {result['median_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms"
            )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
