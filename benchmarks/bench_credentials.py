"""Credential parsing benchmark: `parse_payload` per payload kind, with every default format registered.

    python benchmarks/bench_credentials.py            # 3000 payloads per kind
    python benchmarks/bench_credentials.py -n 10000

Reports median / p99 / max microseconds per parse for CCCD, PC-Covid, random bytes, unknown text and
oversized (100 KB) payloads, and checks each kind came out as expected.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.credentials.base import Credential, ParseContext, Rejection  # noqa: E402
from kiosk.credentials.provinces import PROVINCES  # noqa: E402
from kiosk.credentials.registry import default_formats, parse_payload  # noqa: E402

CTX = ParseContext(now=datetime(2026, 11, 25, tzinfo=UTC))
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
GIVEN = ["Văn", "Thị", "Ngọc", "Minh", "Thu", "Đăng", "Hữu", "Ánh", "Hạnh", "Khoa", "Tuyết", "Ưng", "An"]


def cccd(rng: random.Random) -> bytes:
    dob = date(1930, 1, 1) + timedelta(days=rng.randrange(30_000))
    female = rng.random() < 0.5
    digit = (dob.year // 100 - 19) * 2 + female
    ident = f"{rng.choice(sorted(PROVINCES))}{digit}{dob.year % 100:02d}{rng.randrange(10**6):06d}"
    name = " ".join([rng.choice(FAMILY), *rng.sample(GIVEN, rng.randint(1, 3))])
    sex = "Nữ" if female else "Nam"
    return f"{ident}|{rng.randrange(10**9):09d}|{name}|{dob:%d%m%Y}|{sex}|12 Lê Lợi, TP. Thanh Hóa|20042021".encode()


def pccovid(rng: random.Random) -> bytes:
    dob = date(1930, 1, 1) + timedelta(days=rng.randrange(30_000))
    return f"{rng.randrange(10**12):012d}|NGUYEN VAN AN|{dob.isoformat()}|0|Q{rng.randrange(10**10)}|<1<<<".encode()


def random_bytes(rng: random.Random) -> bytes:
    return rng.randbytes(rng.randint(0, 600))


def unknown_text(rng: random.Random) -> bytes:
    return f"https://example.vn/{rng.randrange(10**9)}".encode()


def oversized(rng: random.Random) -> bytes:
    return b"|" * 100_000


KINDS: dict[str, tuple[Callable[[random.Random], bytes], type]] = {
    "cccd": (cccd, Credential),
    "pccovid": (pccovid, Credential),
    "random bytes": (random_bytes, Rejection),
    "unknown text": (unknown_text, Rejection),
    "100 KB": (oversized, Rejection),
}


def run(count: int) -> None:
    rng = random.Random(20211001)
    print(f"formats: {[fmt.kind for fmt in default_formats()]}; {count} payloads per kind")
    print(f"{'kind':<14}{'median us':>11}{'p99 us':>9}{'max us':>9}  expected")
    for kind, (make, expected) in KINDS.items():
        payloads = [make(rng) for _ in range(count)]
        timings, right = [], 0
        for data in payloads:
            started = time.perf_counter()
            result = parse_payload(data, CTX)
            timings.append((time.perf_counter() - started) * 1e6)
            right += isinstance(result, expected)
        timings.sort()
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        print(f"{kind:<14}{statistics.median(timings):>11.1f}{p99:>9.1f}{timings[-1]:>9.1f}  {right}/{count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="payloads per kind")
    run(parser.parse_args().n)


if __name__ == "__main__":
    main()
