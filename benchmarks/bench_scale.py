"""The central server at scale on day-partitioned PostgreSQL (issue 13), in one run on a throwaway durable cluster.

1. Load: `--scale` events (target 100M) over 21 days at scale/500 venues by scale/5 people, COPY-loaded one day
   at a time into a table, its `event_uuids` day filled from it, and both ATTACHed as that day's partitions
   (their indexes built on attach). `--peak-day N --peak-events M`: day N (0 = the oldest) holds M of them.
2. Tracing: trace by ID number (14-day window) p99; a venue + 2-hour window p99 (and inside the peak day).
3. Ingest: HTTP with 4 workers (8 kiosks pushing gzip batches of 500) against raw COPY of the same kind of rows
   into the same partitioned tables (parents, with their indexes and `event_uuids`), in the same run: the ratio
   of each COPY + HTTP pair, `--ingest-rounds` pairs, and their median.
4. Retention as the server runs it: the oldest day's events partition dropped, then its uuid partition, both
   evicted from the page cache first (a day at the end of the retention is three weeks old; `--hot-drop` keeps
   them cached), then the row DELETE of half a day (what a weekly partition's boundary would cost per row).
   The data directory's mount options are printed: with `discard`, each unlink trims synchronously.

The sync load of 10,000 kiosks is `benchmarks/bench_sync_load.py`.

    nice -n 19 ionice -c3 python benchmarks/bench_scale.py --scale 100000000 --peak-day 0 --peak-events 50000000
    python benchmarks/bench_scale.py --scale 200000 --ingest-events 20000 --samples 20   # a quick check
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_server import NAMES, bench_http, pct  # noqa: E402
from proc_stats import machine_busy_s  # noqa: E402  (run as a script: its folder is on the path)

from server.partitions import EVENTS, UUIDS, partition_name  # noqa: E402
from tests.support.postgres import PgCluster, find_pg_bin  # noqa: E402

DAYS = 21
COLUMNS = (
    "venue_id, uuid, kiosk_id, direction, credential, person_key, id_number, full_name, date_of_birth, wall_time, "
    "corrected_time, clock_offset_ms, monotonic_ns, source, flags, details, received_at, clock_suspect"
)


def say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def day_chunks(  # type: ignore[no-untyped-def]
    day: date, count: int, venues: int, people: int, rng: random.Random, first: int, chunk: int = 500_000
):
    """COPY text of `count` events of one day (visits: entry, exit 2 h later at most) in pieces of about `chunk`
    rows, each with the COPY text of its `event_uuids` rows: a peak day of tens of millions of rows never sits
    in memory whole."""
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    stamps = [(base + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:00+00") for m in range(24 * 60)]
    counter, written = first, 0
    while written < count:
        events, uuids = io.StringIO(), io.StringIO()
        goal = min(count, written + chunk)
        while written < goal:
            person = rng.randrange(people)
            venue = rng.randrange(1, venues + 1)
            entry = rng.randrange(24 * 60 - 121)
            id_number = f"079{person:09d}"
            name = NAMES[person % len(NAMES)]
            for direction, minute in (("entry", entry), ("exit", entry + rng.randrange(15, 120))):
                counter += 1
                key, when = uuid.UUID(int=counter), stamps[minute]
                events.write(
                    f"{venue}\t{key}\t{venue}\t{direction}\tcccd\t{id_number}\t{id_number}\t{name}"
                    f"\t\\N\t{when}\t{when}\t0\t0\tscan\t[]\t{{}}\t{when}\tf\n"
                )
                uuids.write(f"{venue}\t{key}\t{day}\t{when}\n")
                written += 1
        yield events.getvalue().encode(), uuids.getvalue().encode()


def day_counts(scale: int, peak_day: int | None, peak_events: int) -> list[int]:
    """Events per day: `scale` spread evenly over DAYS, or one peak day of `peak_events` and the rest evenly."""
    if peak_day is None:
        return [scale // DAYS] * DAYS
    rest = (scale - peak_events) // (DAYS - 1)
    return [peak_events if n == peak_day else rest for n in range(DAYS)]


def load(dsn: str, counts: list[int], venues: int, people: int, first_day: date) -> dict[str, float]:
    """Each day: CREATE TABLE + COPY in one transaction (with wal_level=minimal the rows skip the WAL), then its
    `event_uuids` day (wall_day = that day) filled server-side, and both ATTACHed as partitions, which builds
    their indexes."""
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
        copy_s = attach_s = 0.0
        first = 0
        for n, per_day in enumerate(counts):
            day = first_day + timedelta(days=n)
            t0 = time.perf_counter()
            events, uuids = partition_name(day, EVENTS), partition_name(day, UUIDS)
            with conn.transaction():
                conn.execute(f"DROP TABLE IF EXISTS {events}, {uuids}")  # made ahead by the server: empty
                conn.execute(f"CREATE TABLE {events} (LIKE events INCLUDING DEFAULTS)")
                with conn.cursor() as cur, cur.copy(f"COPY {events} ({COLUMNS}) FROM STDIN") as copy:
                    for piece, _ in day_chunks(day, per_day, venues, people, rng, first):
                        copy.write(piece)
                conn.execute(f"CREATE TABLE {uuids} (LIKE event_uuids INCLUDING DEFAULTS)")
                conn.execute(
                    f"INSERT INTO {uuids} (venue_id, uuid, wall_day, aged_from) "
                    f"SELECT venue_id, uuid, %s, corrected_time FROM {events}",
                    (day,),
                )
            first += per_day
            t1 = time.perf_counter()
            bounds = f"FOR VALUES FROM ('{day}') TO ('{day + timedelta(days=1)}')"
            conn.execute(f"ALTER TABLE events ATTACH PARTITION {events} {bounds}")
            conn.execute(f"ALTER TABLE event_uuids ATTACH PARTITION {uuids} {bounds}")
            t2 = time.perf_counter()
            copy_s, attach_s = copy_s + t1 - t0, attach_s + t2 - t1
            say(f"day {n + 1}/{DAYS} {day}: {per_day:,} events, COPY {t1 - t0:.0f} s, attach + indexes {t2 - t1:.0f} s")
        conn.execute("ANALYZE")
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]  # type: ignore[index]
    return {"events": sum(counts), "copy_s": copy_s, "attach_s": attach_s, "size": size}


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


def copy_rate(dsn: str, total: int, venues: int, round_number: int = 0) -> tuple[float, float]:
    """Raw COPY of `total` events of today into the partitioned parents (routing, indexes, uuids): (rows/s, CPU
    microseconds the machine spent per row). Each round COPYs other uuids."""
    import psycopg

    rng = random.Random(5 + round_number)
    first_uuid = 10**15 + round_number * 10**12  # above the loaded days' uuids, and each round's own
    pieces = list(day_chunks(datetime.now(UTC).date(), total, venues, 100_000, rng, first_uuid))
    with psycopg.connect(dsn) as conn:
        t0, busy = time.perf_counter(), machine_busy_s()
        with conn.cursor() as cur, cur.copy("COPY event_uuids (venue_id, uuid, wall_day, aged_from) FROM STDIN") as c:
            for _, uuids in pieces:
                c.write(uuids)
        with conn.cursor() as cur, cur.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
            for events, _ in pieces:
                copy.write(events)
        conn.commit()
        return total / (time.perf_counter() - t0), (machine_busy_s() - busy) / total * 1e6


def relation_files(conn, name: str) -> list[Path]:  # type: ignore[no-untyped-def]
    """Every file of a table with its indexes and TOAST (all 1 GB segments): what a DROP unlinks."""
    data = Path(conn.execute("SHOW data_directory").fetchone()[0])
    relations = conn.execute(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.oid = to_regclass(%s) "
        "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = to_regclass(%s)) "
        "OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = to_regclass(%s))",
        (name, name, name),
    ).fetchall()
    files = []
    for (relative,) in relations:
        if relative:
            files.extend(p for p in data.glob(relative + "*") if p.name.split(".")[0].split("_")[0].isdigit())
    return files


def evict(files: list[Path]) -> int:
    """Drop these files from the page cache (a partition at the end of the retention was last written three weeks
    ago: cold); bytes evicted."""
    total = 0
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            total += os.fstat(fd).st_size
        finally:
            os.close(fd)
    return total


def mount_options(path: Path) -> str:
    """The mount options of the filesystem holding `path` ("discard": every unlink trims the freed blocks
    synchronously, which is what a DROP waits for)."""
    best, options = "", "?"
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if str(path).startswith(fields[1]) and len(fields[1]) > len(best):
            best, options = fields[1], f"{fields[2]} {fields[3]}"
    return options


def bench_retention(url: str, dsn: str, first_day: date, cold: bool) -> dict[str, float | str]:
    """Retention as the server runs it (`drop_days_before`, the function `kiosk-server purge` calls) on the oldest
    day (the peak day with `--peak-day 0`), its uuid partition UUID_MARGIN later, then a row DELETE of half of
    the next day (what a weekly partition's boundary would cost per row)."""
    import psycopg

    from server.db import open_database
    from server.partitions import UUID_MARGIN, drop_days_before

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # the load's dirty pages written: the DROP's own cost is timed
        files = relation_files(conn, partition_name(first_day, EVENTS))
        files += relation_files(conn, partition_name(first_day, UUIDS))
        evicted = evict(files) if cold else 0
        where = mount_options(Path(conn.execute("SHOW data_directory").fetchone()[0]))  # type: ignore[index]
    engine = open_database(url)
    day_end = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC) + timedelta(days=1)
    t0 = time.perf_counter()
    _, rows = drop_days_before(engine, day_end)
    drop_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, uuids = drop_days_before(engine, day_end + UUID_MARGIN, UUIDS)
    uuids_s = time.perf_counter() - t0
    engine.dispose()
    with psycopg.connect(dsn, autocommit=True) as conn:
        t0 = time.perf_counter()
        deleted = conn.execute("DELETE FROM events WHERE corrected_time < %s", (day_end + timedelta(hours=12),))
        delete_s = time.perf_counter() - t0
    return {
        "rows": rows,
        "drop_s": drop_s,
        "uuids": uuids,
        "uuids_s": uuids_s,
        "deleted": deleted.rowcount,
        "delete_s": delete_s,
        "evicted_gb": evicted / 2**30,
        "files": len(files),
        "mount": where,
    }


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10_000_000, help="events loaded (target 100M)")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--ingest-events", type=int, default=200_000)
    parser.add_argument("--ingest-rounds", type=int, default=3, help="COPY + HTTP pairs; the median ratio is reported")
    parser.add_argument("--skip-ingest", action="store_true", help="no HTTP-vs-COPY ingest measurement")
    parser.add_argument("--hot-drop", action="store_true", help="drop the oldest day as loaded, in the page cache")
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


def measure_ingest(url: str, dsn: str, args: argparse.Namespace, venues: int) -> None:
    """Raw COPY, then HTTP with 4 workers (8 kiosks, gzip batches of 500: bench_server's), with the CPU the whole
    machine spent per event in each (COPY is one backend; HTTP spreads over every core). `--ingest-rounds` pairs,
    each COPY right before its HTTP run: on a shared machine one COPY of a few seconds moved 22-52k rows/s between
    runs minutes apart, so the ratio is taken per pair and the median reported."""
    events = args.ingest_events
    ratios = []
    for round_number in range(args.ingest_rounds):
        copy, copy_us = copy_rate(dsn, events, venues, round_number)
        http_figures = bench_http(url, 4, events, 500, 8)
        http, http_us = http_figures["events_per_s"], http_figures["cpu_us_per_event"]
        ratios.append(http / copy)
        say(
            f"INGEST round {round_number + 1}: HTTP 4 workers {http:,.0f} events/s ({http_us:.0f} us of CPU per "
            f"event, machine-wide); raw COPY {copy:,.0f} rows/s ({copy_us:.0f} us per row); ratio {http / copy:.2f}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    say(f"INGEST HTTP / COPY median ratio {statistics.median(ratios):.2f} of {len(ratios)} rounds")


def measure_retention(url: str, dsn: str, args: argparse.Namespace, first_day: date) -> None:
    kept = bench_retention(url, dsn, first_day, cold=not args.hot_drop)
    state = "hot (as loaded)" if args.hot_drop else f"cold ({kept['evicted_gb']:.1f} GB evicted from the page cache)"
    say(
        f"RETENTION drop of the oldest day ({kept['rows']:,} events, {kept['files']} files), {state}, on {kept['mount']}: "
        f"{kept['drop_s'] * 1000:.0f} ms; its uuid partition ({kept['uuids']:,} rows) {kept['uuids_s'] * 1000:.0f} ms; "
        f"DELETE of half the next day ({kept['deleted']:,} rows) {kept['delete_s']:.1f} s"
    )


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
            f"{loaded['attach_s']:.0f} s; database {loaded['size']}"
        )
        measure_queries(url, args, people, venues, first_day)
        if not args.skip_ingest:
            measure_ingest(url, dsn, args, venues)
        measure_retention(url, dsn, args, first_day)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
