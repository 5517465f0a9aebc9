"""The central server at scale on day-partitioned PostgreSQL (issue 13), in one run on a throwaway durable cluster.

1. Load: `--scale` events (target 100M) over 21 days at scale/500 venues by scale/5 people, COPY-loaded one day
   at a time into a table that is then ATTACHed as that day's partition (its indexes built on attach), and
   their uuids COPYed into `event_uuids`.
2. Tracing: trace by ID number (14-day window) p99; a venue + 2-hour window p99.
3. Ingest: HTTP with 4 workers (8 kiosks pushing gzip batches of 500) against raw COPY of the same kind of rows
   into the same partitioned table (parent, with its indexes and `event_uuids`), in the same run: the ratio.
4. Sync load: `--kiosks` simulated kiosks on loopback, each posting a small batch every 30 s (random phase) for
   `--sync-seconds`; p50/p99 latency, errors, and the resident memory of each server worker.
5. Retention: DROP of the oldest day's partition, and the row DELETE of half a day (what a weekly partition's
   boundary would cost per row).

    nice -n 19 ionice -c3 python benchmarks/bench_scale.py --scale 30000000
    python benchmarks/bench_scale.py --scale 200000 --kiosks 200 --sync-seconds 20   # a quick check
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_server import NAMES, pct, synthetic_events  # noqa: E402  (run as a script: its folder is on the path)

from sync import protocol  # noqa: E402
from tests.support.postgres import LiveServer, PgCluster, find_pg_bin  # noqa: E402

DAYS = 21
COLUMNS = (
    "venue_id, uuid, kiosk_id, direction, credential, person_key, id_number, full_name, date_of_birth, wall_time, "
    "corrected_time, clock_offset_ms, monotonic_ns, source, flags, details, received_at, clock_suspect"
)


def say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def day_rows(day: date, count: int, venues: int, people: int, rng: random.Random, first: int) -> tuple[bytes, bytes]:
    """COPY text for `count` events of one day (visits: entry, exit 2 h later at most) and their uuid rows."""
    events, uuids = io.StringIO(), io.StringIO()
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    stamps = [(base + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:00+00") for m in range(24 * 60)]
    counter = first
    written = 0
    while written < count:
        person = rng.randrange(people)
        venue = rng.randrange(1, venues + 1)
        entry = rng.randrange(24 * 60 - 121)
        id_number = f"079{person:09d}"
        name = NAMES[person % len(NAMES)]
        for direction, minute in (("entry", entry), ("exit", entry + rng.randrange(15, 120))):
            counter += 1
            key = uuid.UUID(int=counter)
            when = stamps[minute]
            events.write(
                f"{venue}\t{key}\t{venue}\t{direction}\tcccd\t{id_number}\t{id_number}\t{name}\t\\N\t{when}\t{when}"
                f"\t0\t0\tscan\t[]\t{{}}\t{when}\tf\n"
            )
            uuids.write(f"{venue}\t{key}\t{when}\n")
            written += 1
    return events.getvalue().encode(), uuids.getvalue().encode()


def day_chunks(day: date, count: int, venues: int, people: int, rng: random.Random, first: int, chunk: int = 500_000):  # type: ignore[no-untyped-def]
    """COPY text of `count` events of one day (as `day_rows`), in pieces of about `chunk` rows: a peak day of
    tens of millions of rows never sits in memory whole."""
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    stamps = [(base + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:00+00") for m in range(24 * 60)]
    counter, written = first, 0
    while written < count:
        events = io.StringIO()
        goal = min(count, written + chunk)
        while written < goal:
            person = rng.randrange(people)
            venue = rng.randrange(1, venues + 1)
            entry = rng.randrange(24 * 60 - 121)
            id_number = f"079{person:09d}"
            name = NAMES[person % len(NAMES)]
            for direction, minute in (("entry", entry), ("exit", entry + rng.randrange(15, 120))):
                counter += 1
                when = stamps[minute]
                events.write(
                    f"{venue}\t{uuid.UUID(int=counter)}\t{venue}\t{direction}\tcccd\t{id_number}\t{id_number}\t{name}"
                    f"\t\\N\t{when}\t{when}\t0\t0\tscan\t[]\t{{}}\t{when}\tf\n"
                )
                written += 1
        yield events.getvalue().encode()


def day_counts(scale: int, peak_day: int | None, peak_events: int) -> list[int]:
    """Events per day: `scale` spread evenly over DAYS, or one peak day of `peak_events` and the rest evenly."""
    if peak_day is None:
        return [scale // DAYS] * DAYS
    rest = (scale - peak_events) // (DAYS - 1)
    return [peak_events if n == peak_day else rest for n in range(DAYS)]


def load(dsn: str, counts: list[int], venues: int, people: int, first_day: date) -> dict[str, float]:
    """Each day: CREATE TABLE + COPY in one transaction (with wal_level=minimal the rows skip the WAL), its uuids
    copied into `event_uuids` server-side, then ATTACHed (which builds the partition's indexes)."""
    import psycopg

    rng = random.Random(7)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(
            "INSERT INTO venues (id, name, created_at, station_config) SELECT g, 'Venue ' || g, now(), '{}' "
            "FROM generate_series(1, %s) g",
            (venues,),
        )
        conn.execute("SELECT setval(pg_get_serial_sequence('venues', 'id'), %s)", (venues,))
        conn.execute("ALTER TABLE event_uuids DROP CONSTRAINT pk_event_uuids")
        conn.execute("DROP INDEX ix_event_uuids_aged_from")
        copy_s = attach_s = 0.0
        first = 0
        for n, per_day in enumerate(counts):
            day = first_day + timedelta(days=n)
            name = f"events_p{day:%Y%m%d}"
            t0 = time.perf_counter()
            with conn.transaction():
                conn.execute(f"CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS)")
                with conn.cursor() as cur, cur.copy(f"COPY {name} ({COLUMNS}) FROM STDIN") as copy:
                    for piece in day_chunks(day, per_day, venues, people, rng, first):
                        copy.write(piece)
            conn.execute(
                f"INSERT INTO event_uuids (venue_id, uuid, aged_from) SELECT venue_id, uuid, corrected_time FROM {name}"
            )
            first += per_day
            t1 = time.perf_counter()
            end = day + timedelta(days=1)
            conn.execute(f"ALTER TABLE events ATTACH PARTITION {name} FOR VALUES FROM ('{day}') TO ('{end}')")
            t2 = time.perf_counter()
            copy_s, attach_s = copy_s + t1 - t0, attach_s + t2 - t1
            say(f"day {n + 1}/{DAYS} {day}: {per_day:,} events, COPY {t1 - t0:.0f} s, attach + indexes {t2 - t1:.0f} s")
        t0 = time.perf_counter()
        conn.execute("ALTER TABLE event_uuids ADD CONSTRAINT pk_event_uuids PRIMARY KEY (venue_id, uuid)")
        conn.execute("CREATE INDEX ix_event_uuids_aged_from ON event_uuids (aged_from)")
        conn.execute("ANALYZE")
        keys_s = time.perf_counter() - t0
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]  # type: ignore[index]
    return {"events": sum(counts), "copy_s": copy_s, "attach_s": attach_s, "keys_s": keys_s, "size": size}


def timed(samples: int, run) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for i in range(samples):
        t0 = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - t0)
    return times


def bench_queries(
    url: str, people: int, venues: int, first_day: date, samples: int, peak: date | None = None
) -> dict[str, float]:
    from sqlalchemy import text

    from server.db import open_database
    from server.tracing import TraceSettings, trace, trace_json

    engine = open_database(url)
    rng = random.Random(11)
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC) + timedelta(days=5)
    end = start + timedelta(days=14)
    settings = TraceSettings()

    def one_trace(_: int) -> None:
        id_number = f"079{rng.randrange(people):09d}"
        with engine.connect() as conn:
            trace_json(conn, id_number, start, end, settings, trace(conn, id_number, start, end, settings))

    window = text(
        "SELECT id_number, direction, corrected_time FROM events WHERE venue_id = :v "
        "AND corrected_time >= :a AND corrected_time < :b ORDER BY corrected_time"
    )

    def one_window(_: int) -> None:
        at = start + timedelta(minutes=rng.randrange(14 * 24 * 60))
        with engine.connect() as conn:
            conn.execute(window, {"v": rng.randrange(1, venues + 1), "a": at, "b": at + timedelta(hours=2)}).all()

    def one_peak_window(_: int) -> None:  # a venue's 2 hours inside the peak day, the busiest partition
        assert peak is not None
        at = datetime(peak.year, peak.month, peak.day, tzinfo=UTC) + timedelta(minutes=rng.randrange(22 * 60))
        with engine.connect() as conn:
            conn.execute(window, {"v": rng.randrange(1, venues + 1), "a": at, "b": at + timedelta(hours=2)}).all()

    traces = timed(samples, one_trace)
    windows = timed(samples, one_window)
    peaks = timed(samples, one_peak_window) if peak is not None else [0.0]
    engine.dispose()
    return {
        "peak_window_median_ms": statistics.median(peaks) * 1000,
        "peak_window_p99_ms": pct(peaks, 0.99) * 1000,
        "trace_first_ms": traces[0] * 1000,
        "trace_median_ms": statistics.median(traces) * 1000,
        "trace_p99_ms": pct(traces, 0.99) * 1000,
        "window_median_ms": statistics.median(windows) * 1000,
        "window_p99_ms": pct(windows, 0.99) * 1000,
    }


def copy_rate(dsn: str, total: int) -> float:
    """Raw COPY of `total` events of today into the partitioned parent (routing, indexes, uuids): rows/s."""
    import psycopg

    rng = random.Random(5)
    events_text, uuids_text = day_rows(datetime.now(UTC).date(), total, 1000, 100_000, rng, 10**15)
    with psycopg.connect(dsn) as conn:
        t0 = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY event_uuids (venue_id, uuid, aged_from) FROM STDIN") as copy:
            copy.write(uuids_text)
        with conn.cursor() as cur, cur.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
            copy.write(events_text)
        conn.commit()
        return total / (time.perf_counter() - t0)


def http_rate(url: str, total: int, workers: int = 4, threads: int = 8, batch: int = 500) -> dict[str, float]:
    import httpx

    server = LiveServer(url, extra_args=("--workers", str(workers)), log_path=Path("/tmp/bench_scale_http.log"))
    server.start(timeout=120)
    try:
        venue = server.add_venue("HTTP bench")
        tokens = [server.enroll(venue) for _ in range(threads)]
        events = synthetic_events(total, seed=3)
        bodies = [
            protocol.gzip_body(protocol.encode_batch(events[i : i + batch], datetime.now(UTC)))
            for i in range(0, total, batch)
        ]

        def push(index: int) -> None:
            with httpx.Client(timeout=120) as client:
                for body in bodies[index::threads]:
                    answer = client.post(
                        server.url + protocol.EVENTS_PATH,
                        content=body,
                        headers={
                            "Authorization": f"Bearer {tokens[index]}",
                            "Content-Encoding": "gzip",
                            "Content-Type": "application/json",
                        },
                    )
                    if answer.status_code != 200:
                        raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")

        t0 = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(push, range(threads)))
        return {"events_per_s": total / (time.perf_counter() - t0)}
    finally:
        server.stop()


def _worker_rss_mb(pid: int) -> list[float]:
    """Resident memory of a process's children (uvicorn workers), or of the process itself without any."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    rss = []
    for each in children or [pid]:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss.append(int(line.split()[1]) / 1024)
    return rss


async def _kiosk_loop(client, url: str, token: str, until: float, period: float, latencies, errors) -> None:  # type: ignore[no-untyped-def]
    await asyncio.sleep(random.uniform(0, period))
    while time.monotonic() < until:
        body = protocol.encode_batch(synthetic_events(5, seed=random.getrandbits(32)), datetime.now(UTC))
        t0 = time.perf_counter()
        try:
            answer = await client.post(
                url + protocol.EVENTS_PATH,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            (latencies if answer.status_code == 200 else errors).append(time.perf_counter() - t0)
        except Exception:  # noqa: BLE001 - counted, not fatal: the figure is the error count
            errors.append(time.perf_counter() - t0)
        await asyncio.sleep(period)


def sync_load(url: str, kiosks: int, seconds: float, workers: int = 4, period: float = 30.0) -> dict[str, float]:
    import httpx

    server = LiveServer(url, extra_args=("--workers", str(workers)), log_path=Path("/tmp/bench_scale_sync.log"))
    server.start(timeout=120)
    try:
        venue = server.add_venue("Sync load")
        with ThreadPoolExecutor(8) as pool:
            tokens = list(pool.map(lambda _: server.enroll(venue), range(kiosks)))
        latencies: list[float] = []
        errors: list[float] = []

        async def run() -> None:
            limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
            async with httpx.AsyncClient(timeout=30, limits=limits) as client:
                until = time.monotonic() + seconds
                await asyncio.gather(
                    *(_kiosk_loop(client, server.url, t, until, period, latencies, errors) for t in tokens)
                )

        asyncio.run(run())
        assert server.process is not None
        rss = _worker_rss_mb(server.process.pid)
        return {
            "requests": len(latencies) + len(errors),
            "errors": len(errors),
            "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
            "p99_ms": pct(latencies, 0.99) * 1000 if latencies else 0.0,
            "rss_mb_max": max(rss),
            "workers": len(rss),
        }
    finally:
        server.stop()


def drop_day(dsn: str, day: date) -> tuple[int, float]:
    """DROP of one day's partition, timed; (its events counted before, seconds)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        name = f"events_p{day:%Y%m%d}"
        rows = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # type: ignore[index]
        conn.execute("CHECKPOINT")  # the count's hint-bit writes flushed: the DROP's own cost is timed
        t0 = time.perf_counter()
        conn.execute(f"DROP TABLE {name}")
        return int(rows), time.perf_counter() - t0


def bench_retention(dsn: str, first_day: date) -> dict[str, float]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        name = f"events_p{first_day:%Y%m%d}"
        rows = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # type: ignore[index]
        t0 = time.perf_counter()
        conn.execute(f"DROP TABLE {name}")
        drop_s = time.perf_counter() - t0
        second = first_day + timedelta(days=1)
        cut = datetime(second.year, second.month, second.day, 12, tzinfo=UTC)
        t0 = time.perf_counter()
        deleted = conn.execute("DELETE FROM events WHERE corrected_time < %s", (cut,)).rowcount
        delete_s = time.perf_counter() - t0
        t0 = time.perf_counter()  # what exactly-once costs retention: the uuids of the day dropped, by rows
        forgotten = conn.execute("DELETE FROM event_uuids WHERE aged_from < %s", (second,)).rowcount
        uuids_s = time.perf_counter() - t0
    return {
        "rows": rows,
        "drop_s": drop_s,
        "deleted": deleted,
        "delete_s": delete_s,
        "uuids": forgotten,
        "uuids_s": uuids_s,
    }


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10_000_000, help="events loaded (target 100M)")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--ingest-events", type=int, default=200_000)
    parser.add_argument("--skip-ingest", action="store_true", help="no HTTP-vs-COPY ingest measurement")
    parser.add_argument("--kiosks", type=int, default=2000, help="simulated kiosks of the sync load (0: none)")
    parser.add_argument("--sync-seconds", type=float, default=90.0)
    parser.add_argument("--peak-day", type=int, help="which of the 21 days (0 = oldest) is a peak day")
    parser.add_argument("--peak-events", type=int, default=0, help="events of the peak day (out of --scale)")
    parser.add_argument("--max-wal-size", default="16GB")
    parser.add_argument(
        "--wal-level", default="replica", choices=("replica", "minimal"), help="minimal: the load skips the WAL"
    )
    return parser.parse_args()


def start_cluster(args: argparse.Namespace) -> PgCluster:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        sys.exit("PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin)")
    settings = {
        "shared_buffers": "1GB",
        "max_wal_size": args.max_wal_size,
        "checkpoint_timeout": "30min",
        "max_connections": "300",
        "wal_level": args.wal_level,
    }
    if args.wal_level == "minimal":
        settings["max_wal_senders"] = "0"  # required by wal_level=minimal
    cluster = PgCluster(bin_dir, fast=False, settings=settings).start()
    say(
        f"PostgreSQL {bin_dir.parts[-2]} (fsync on, wal_level {args.wal_level}) at {cluster.root}; "
        f"{os.cpu_count()} CPUs; scale {args.scale:,}; load average {os.getloadavg()[0]:.1f}"
    )
    return cluster


def measure_queries(url: str, args: argparse.Namespace, people: int, venues: int, first_day: date) -> None:
    peak = first_day + timedelta(days=args.peak_day) if args.peak_day is not None else None
    queries = bench_queries(url, people, venues, first_day, args.samples, peak)
    say(
        f"QUERIES trace by ID (14 days) first {queries['trace_first_ms']:.1f} ms, median "
        f"{queries['trace_median_ms']:.1f} ms, p99 {queries['trace_p99_ms']:.1f} ms; venue + 2 h window median "
        f"{queries['window_median_ms']:.1f} ms, p99 {queries['window_p99_ms']:.1f} ms ({args.samples} each); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    if peak is not None:
        say(
            f"QUERIES venue + 2 h window inside the peak day {peak}: median {queries['peak_window_median_ms']:.1f} "
            f"ms, p99 {queries['peak_window_p99_ms']:.1f} ms ({args.samples})"
        )


def measure_ingest(url: str, dsn: str, args: argparse.Namespace) -> None:
    copy = copy_rate(dsn, args.ingest_events)
    http = http_rate(url, args.ingest_events)["events_per_s"]
    say(f"INGEST HTTP 4 workers {http:,.0f} events/s; raw COPY {copy:,.0f} rows/s; ratio {http / copy:.2f}")


def measure_sync(url: str, args: argparse.Namespace) -> None:
    load_figures = sync_load(url, args.kiosks, args.sync_seconds)
    say(
        f"SYNC {args.kiosks:,} kiosks every 30 s for {args.sync_seconds:.0f} s: {load_figures['requests']:,} "
        f"requests, {load_figures['errors']} errors, p50 {load_figures['p50_ms']:.0f} ms, p99 "
        f"{load_figures['p99_ms']:.0f} ms; {load_figures['workers']} workers, max RSS "
        f"{load_figures['rss_mb_max']:.0f} MB each"
    )


def measure_retention(dsn: str, args: argparse.Namespace, first_day: date) -> None:
    kept = bench_retention(dsn, first_day)
    say(
        f"RETENTION DROP of one day ({kept['rows']:,} events) {kept['drop_s'] * 1000:.0f} ms; DELETE of half "
        f"a day ({kept['deleted']:,} rows) {kept['delete_s']:.1f} s; the dropped day's uuids "
        f"({kept['uuids']:,} rows of event_uuids) deleted in {kept['uuids_s']:.1f} s"
    )
    if args.peak_day is not None and args.peak_day > 1:
        rows, seconds = drop_day(dsn, first_day + timedelta(days=args.peak_day))
        say(f"RETENTION DROP of the peak day ({rows:,} events) {seconds * 1000:.0f} ms")


def main() -> None:
    args = options()
    cluster = start_cluster(args)
    venues, people = max(args.scale // 500, 100), max(args.scale // 5, 1000)
    try:
        from server.db import open_database

        url = cluster.create_database("scale")
        open_database(url).dispose()
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        first_day = datetime.now(UTC).date() - timedelta(days=DAYS - 1)  # inside the 21-day retention of serve
        loaded = load(dsn, day_counts(args.scale, args.peak_day, args.peak_events), venues, people, first_day)
        say(
            f"LOAD {loaded['events']:,} events, {venues:,} venues, {people:,} people over {DAYS} days: COPY "
            f"{loaded['copy_s']:.0f} s ({loaded['events'] / loaded['copy_s']:,.0f} rows/s), attach + indexes "
            f"{loaded['attach_s']:.0f} s, uuid key {loaded['keys_s']:.0f} s; database {loaded['size']}"
        )
        measure_queries(url, args, people, venues, first_day)
        if not args.skip_ingest:
            measure_ingest(url, dsn, args)
        if args.kiosks > 0:
            measure_sync(url, args)
        measure_retention(dsn, args, first_day)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
