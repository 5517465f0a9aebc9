"""Local store benchmark: record() commit latency, queries on a 1M-event database, outbox drain, purge.

    python benchmarks/bench_store.py                     # 1M events, ~1-2 minutes
    python benchmarks/bench_store.py --events 200000     # quicker
    python benchmarks/bench_store.py --dir /var/tmp/x    # put the database on another disk

Everything runs on a real SQLite file (WAL, synchronous=FULL) in a temporary folder (removed unless --keep).
The 1M-event database is built with the store's bulk path (benchmark only); every measured call is the public API.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.events import Direction, NewEvent  # noqa: E402
from kiosk.store import Store  # noqa: E402
from tests.support.seed import bulk_load  # noqa: E402

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Thu", "Thanh", "Quốc", "Xuân"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Hạnh", "Khoa", "Lâm", "Nhung", "Phúc", "Quân", "Sáu", "Tuyết", "Uyên", "Yến"]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Person:
    __slots__ = ("key", "name", "id_number", "dob")

    def __init__(self, rng: random.Random, index: int) -> None:
        self.key = f"cccd:{index:012d}"
        self.name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        self.id_number = f"0{rng.randrange(10**11):011d}"
        self.dob = date(1950, 1, 1) + timedelta(days=rng.randrange(25_000))


def event_for(person: Person, direction: Direction, at: datetime) -> NewEvent:
    return NewEvent(
        direction=direction,
        credential="cccd",
        person_key=person.key,
        id_number=person.id_number,
        full_name=person.name,
        date_of_birth=person.dob,
        wall_time=at,
        monotonic_ns=int(at.timestamp() * 1e9),
        details={"q1": "không"},
    )


def history(people: list[Person], n_events: int, n_inside: int, rng: random.Random) -> Iterator[NewEvent]:
    """n_events over the last 21 days: visits (entry then exit), then n_inside people who entered today."""
    visits = (n_events - n_inside) // 2
    start = NOW - timedelta(days=21)
    step = (timedelta(days=21) - timedelta(hours=3)) / max(visits, 1)
    for i in range(visits):
        person = people[rng.randrange(len(people))]
        at = start + step * i
        yield event_for(person, Direction.ENTRY, at)
        yield event_for(person, Direction.EXIT, at + timedelta(minutes=1))
    for i, person in enumerate(rng.sample(people, n_inside)):
        yield event_for(person, Direction.ENTRY, NOW - timedelta(hours=2) + timedelta(seconds=i))


def timed(fn: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (this process) milliseconds per call."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return wall, cpu


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(label: str, timings: tuple[list[float], list[float]]) -> None:
    ms, cpu = timings
    print(
        f"| {label} | {len(ms)} | {statistics.median(ms):.2f} | {pct(ms, 0.99):.2f} | {max(ms):.2f} "
        f"| {statistics.median(cpu):.2f} |",
        flush=True,
    )


def record_latency(store: Store, people: list[Person], n: int, label: str) -> None:
    base = NOW + timedelta(hours=1)
    events = [event_for(people[i % len(people)], Direction.ENTRY, base + timedelta(seconds=i)) for i in range(n)]
    it = iter(events)
    report(label, timed(lambda: store.record(next(it)), n))


def drain(store: Store, batch: int) -> tuple[int, float]:
    """The sync client's store calls, without the network: claim + acknowledge until the outbox is empty."""
    total, t0 = 0, time.perf_counter()
    while claimed := store.claim_pending(batch):
        store.acknowledge([e.uuid for e in claimed])
        total += len(claimed)
    return total, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the big database")
    parser.add_argument("--people", type=int, default=150_000, help="distinct visitors")
    parser.add_argument("--inside", type=int, default=2_000, help="people inside at the end")
    parser.add_argument("--pending", type=int, default=100_000, help="unsynced events the sync client drains")
    parser.add_argument("--records", type=int, default=2_000, help="record() calls measured on an empty database")
    parser.add_argument("--batch", type=int, default=500, help="sync batch size")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the database files")
    parser.add_argument("--keep", action="store_true", help="keep the database files")
    args = parser.parse_args()

    rng = random.Random(7)
    workdir = Path(tempfile.mkdtemp(prefix="bench-store-", dir=args.dir))
    people = [Person(rng, i) for i in range(args.people)]
    print(f"database folder: {workdir}\n")
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)\n")
    print("| measurement | calls | median ms | p99 ms | max ms | median CPU ms |\n|---|---:|---:|---:|---:|---:|")
    try:
        with Store.open(workdir / "empty.db") as store:
            record_latency(store, people, args.records, "record() on an empty db (commit + fsync)")

        with Store.open(workdir / "big.db") as store:
            t = time.perf_counter()
            stream = history(people, args.events, args.inside, rng)
            acked = args.events - args.pending
            bulk_load(store, (e for _, e in zip(range(acked), stream, strict=False)), "acknowledged")
            bulk_load(store, stream, "pending")
            build_s = time.perf_counter() - t
            size_mb = sum(f.stat().st_size for f in workdir.glob("big.db*")) / 1e6  # the file and its WAL
            n = store.count_events()
            keys = [p.key for p in rng.sample(people, 1000)]
            key_iter = iter(keys * 2)
            report("occupancy()", timed(store.occupancy, 200))
            report(f"inside() ({store.occupancy()} people)", timed(store.inside, 50))
            report("last_event(person)", timed(lambda: store.last_event(next(key_iter)), 1000))
            report("search('nguyen van') limit 50", timed(lambda: store.search("nguyen van"), 20))
            report("search(id suffix '1234')", timed(lambda: store.search("1234"), 20))
            report("today_counts(midnight)", timed(lambda: store.today_counts(NOW.replace(hour=0)), 50))
            report("count_events()", timed(store.count_events, 20))
            report("pending_count()", timed(store.pending_count, 50))
            report(
                "events(one day) fully iterated",
                timed(lambda: sum(1 for _ in store.events(NOW - timedelta(days=3), NOW - timedelta(days=2))), 5),
            )
            record_latency(store, people, 500, f"record() on the {n:,}-event db")

            # The sync thread drains the backlog while the scan thread keeps recording.
            stop = threading.Event()
            latencies: list[float] = []
            cpu_times: list[float] = []

            def scanning() -> None:
                i = 0
                while not stop.is_set():
                    at = NOW + timedelta(hours=2, seconds=i)
                    t0, c0 = time.perf_counter(), time.thread_time()
                    store.record(event_for(people[i % len(people)], Direction.ENTRY, at))
                    latencies.append((time.perf_counter() - t0) * 1000)
                    cpu_times.append((time.thread_time() - c0) * 1000)
                    i += 1
                    time.sleep(0.02)

            scanner = threading.Thread(target=scanning)
            pending_before = store.pending_count()
            scanner.start()
            drain_cpu = time.process_time()
            drained, drain_s = drain(store, args.batch)
            drain_cpu = time.process_time() - drain_cpu
            stop.set()
            scanner.join()
            report("record() while sync drains the backlog (CPU: this thread)", (latencies, cpu_times))
            t = time.perf_counter()
            purged = store.purge(NOW - timedelta(days=20))  # like a daily purge: one day of events
            purge_s = time.perf_counter() - t
        print(f"\nbuilt {n:,} events ({args.people:,} people, {size_mb:.0f} MB) in {build_s:.1f} s with the bulk path")
        print(
            f"outbox drain: {drained:,} events (pending before: {pending_before:,}) in {drain_s:.2f} s "
            f"= {drained / drain_s:,.0f} events/s; process CPU {drain_cpu:.2f} s (batch {args.batch})"
        )
        print(f"purge(older than 20 days, i.e. one day of events): {purged:,} events in {purge_s:.2f} s")
        print(f"load average at end: {os.getloadavg()[0]:.1f}")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
