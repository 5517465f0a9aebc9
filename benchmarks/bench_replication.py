"""What synchronous replication costs ingest: HTTP ingest into a primary whose commits wait for a hot standby
(synchronous_commit=on, synchronous_standby_names='standby1') against the same primary with the standby
attached but asynchronous, alternating runs, durable settings (fsync on) on both machines. Both clusters share
this machine's disk and cores: a standby on its own machine and network adds the round trip instead.

    python benchmarks/bench_replication.py --events 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_server import bench_http  # noqa: E402  (run as a script: its folder is on the path)

from tests.support.postgres import find_pg_bin  # noqa: E402
from tests.support.replication import STANDBY_NAME, Standby, replicated_primary  # noqa: E402


def set_synchronous(primary, on: bool) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    names = STANDBY_NAME if on else ""
    with psycopg.connect(host=str(primary.root), port=primary.port, user="postgres", autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{names}'")
        conn.execute("SELECT pg_reload_conf()")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bin_dir = find_pg_bin()
    if bin_dir is None:
        sys.exit("PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin)")
    primary = replicated_primary(bin_dir)
    primary.fast = False  # fsync and full-page writes on: a real server's cost of a commit
    primary.start()
    standby = Standby(primary)
    standby.fast = False
    try:
        standby.start().wait_streaming()
        results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        for _ in range(args.repeat):
            for synchronous in (True, False):
                set_synchronous(primary, synchronous)
                run = bench_http(primary.fresh_url(), args.workers, args.events, args.batch, args.threads)
                results[synchronous].append(run)
        for synchronous, runs in results.items():
            rate = statistics.median(r["events_per_s"] for r in runs)
            p50 = statistics.median(r["batch_ms_median"] for r in runs)
            p99 = statistics.median(r["batch_ms_p99"] for r in runs)
            kind = "synchronous standby" if synchronous else "asynchronous standby"
            print(
                f"HTTP ingest, {kind}, {args.workers} workers, {args.threads} kiosks, batches of {args.batch}: "
                f"median {rate:,.0f} events/s over {args.repeat} runs; batch latency median {p50:.0f} ms, "
                f"p99 {p99:.0f} ms"
            )
    finally:
        standby.stop()
        primary.stop()


if __name__ == "__main__":
    main()
