"""The console's trace page at scale: N events (default 10M) loaded with COPY into a throwaway PostgreSQL
(bench_server's loader: visits by 1M people at 2,000 venues over 30 days), then an authority logged in over HTTP
posts the trace form for random people (14-day window) to a real server; each sample is the whole request:
CSRF check, trace, audit-log insert, page rendering (table, SVG timelines), HTTP.

    python benchmarks/bench_console.py                      # 10M events, 100 traces
    python benchmarks/bench_console.py --events 1000000 --samples 50
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_server import START, load_events, pct  # noqa: E402

from tests.support.postgres import start_benchmark_cluster  # noqa: E402

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def bench_page(url: str, people: int, samples: int) -> dict[str, float]:
    import requests

    from server.app import create_app
    from server.db import open_database
    from server.settings import ServerSettings
    from tests.support.console import csrf_token, login_session, make_login, threaded_server

    engine = open_database(url, pool_size=8)
    make_login(engine, "authority", "bench")
    rng = random.Random(11)
    start = (START + timedelta(days=10)).astimezone(ZONE)
    window = {"from": start.strftime("%Y-%m-%dT%H:%M"), "to": (start + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")}
    times: list[float] = []
    sizes: list[int] = []
    rows = 0
    with threaded_server(create_app(ServerSettings(db_url=url), engine)) as base, requests.Session() as session:
        assert login_session(session, base, "bench").status_code == 303
        token = csrf_token(session.get(f"{base}/console/trace", timeout=30).text)
        for _ in range(samples):
            form = {"csrf_token": token, "id_number": f"079{rng.randrange(people):09d}", **window}
            t0 = time.perf_counter()
            page = session.post(f"{base}/console/trace", data=form, timeout=60)
            times.append(time.perf_counter() - t0)
            assert page.status_code == 200 and 'id="results"' in page.text, page.status_code
            sizes.append(len(page.content))
            rows += page.text.count('<td class="name">')
    engine.dispose()
    return {
        "first_ms": times[0] * 1000,
        "median_ms": statistics.median(times) * 1000,
        "p90_ms": pct(times, 0.90) * 1000,
        "p99_ms": pct(times, 0.99) * 1000,
        "max_ms": max(times) * 1000,
        "avg_rows": rows / samples,
        "avg_kb": statistics.mean(sizes) / 1024,
        "max_rows_page_kb": max(sizes) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    cluster = start_benchmark_cluster()
    try:
        url = cluster.create_database("console")
        loaded = load_events(url, args.events, args.people)
        print(
            f"loaded {loaded['events']:,} events with COPY in {loaded['copy_s']:.0f} s; indexes + analyze "
            f"{loaded['index_s']:.0f} s; table + indexes {loaded['size']}"
        )
        result = bench_page(url, args.people, args.samples)
        print(
            f"POST /console/trace ({args.samples} random people, 14-day window, {result['avg_rows']:.1f} co-visitor "
            f"rows and {result['avg_kb']:.0f} KB a page on average, largest {result['max_rows_page_kb']:.0f} KB): "
            f"first {result['first_ms']:.0f} ms, median {result['median_ms']:.0f} ms, p90 {result['p90_ms']:.0f} ms, "
            f"p99 {result['p99_ms']:.0f} ms, "
            f"max {result['max_ms']:.0f} ms"
        )
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
