"""What the store's high-water mark (kiosk/store/files.py) costs record(): the same store, the same run, with
the mark written after each commit and with it switched off, in alternating rounds. Prints medians and p99.

    python benchmarks/bench_high_water.py [--records 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.store import Store  # noqa: E402
from tests.support.events import visit_event  # noqa: E402


def timed_records(store: Store, count: int) -> tuple[float, float]:
    times = []
    for i in range(count):
        event = visit_event(f"p{i % 500}", datetime.now(UTC))
        started = time.perf_counter()
        store.record(event)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-hwm-"))
    ratios = []
    for number in range(args.rounds):
        with Store.open(folder / "events.sqlite3") as store:
            write_mark = store._high_water.advance
            off = lambda seq: None  # noqa: E731
            first, second = (write_mark, off) if number % 2 == 0 else (off, write_mark)  # order alternates
            store._high_water.advance = first  # type: ignore[method-assign]
            results = {first: timed_records(store, args.records)}
            store._high_water.advance = second  # type: ignore[method-assign]
            results[second] = timed_records(store, args.records)
            marked, unmarked = results[write_mark], results[off]
        ratios.append(marked[0] / unmarked[0])
        print(
            f"round {number}: record() with the mark median {marked[0]:.3f} ms, p99 {marked[1]:.2f} ms; "
            f"without median {unmarked[0]:.3f} ms, p99 {unmarked[1]:.2f} ms"
        )
    print(f"median ratio with/without: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
