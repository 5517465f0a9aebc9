"""Decode benchmark: each engine alone and the budgeted chain on the synthetic entrance set, on one core.

    python benchmarks/bench_decode.py                 # default: 250 frames at 640x480 and at 1280x720
    python benchmarks/bench_decode.py -n 600 --budget 25 --by-condition

Reports per decoder and size: read rate (right bytes on frames with a code), median / p95 / p99 wall ms per frame
and median / p95 CPU ms (this thread's CPU time: what the frame costs even when other processes share the core),
false reads (any code reported on an empty frame) and garbled reads (a code reported with bytes that are not
the UTF-8 payload drawn: Vietnamese mojibake, or a misread).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from entrance_set import Sample, generate  # noqa: E402

from kiosk.decode import make_chain  # noqa: E402
from kiosk.decode.base import DecodedCode, as_gray  # noqa: E402
from kiosk.decode.chain import DecoderChain, default_fallbacks  # noqa: E402
from kiosk.decode.zbar_engine import ZbarEngine  # noqa: E402
from kiosk.decode.zxing_engine import ZxingEngine  # noqa: E402


@dataclass
class Tally:
    positives: int = 0
    reads: int = 0
    empties: int = 0
    false_reads: int = 0
    garbled: int = 0
    times_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)

    def add(self, sample: Sample, codes: list[DecodedCode], ms: float, cpu_ms: float) -> None:
        self.times_ms.append(ms)
        self.cpu_ms.append(cpu_ms)
        if sample.payload is None:
            self.empties += 1
            self.false_reads += len(codes)
            return
        self.positives += 1
        self.reads += any(code.data == sample.payload for code in codes)
        self.garbled += sum(code.data != sample.payload for code in codes)

    def row(self, label: str) -> str:
        t = np.array(self.times_ms) if self.times_ms else np.zeros(1)
        c = np.array(self.cpu_ms) if self.cpu_ms else np.zeros(1)
        rate = 100.0 * self.reads / self.positives if self.positives else float("nan")
        return (
            f"{label:<28} {rate:6.1f}% {self.reads:4d}/{self.positives:<4d} {np.median(t):7.2f} "
            f"{np.percentile(t, 95):7.2f} {np.percentile(t, 99):7.2f} {np.median(c):7.2f} {np.percentile(c, 95):7.2f} "
            f"{self.false_reads:5d} {self.garbled:5d}"
        )


HEADER = (
    f"{'decoder @ size':<28} {'read':>7} {'ok/total':>9} {'med ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
    f"{'cpu med':>7} {'cpu p95':>7} {'false':>5} {'garbl':>5}"
)


def pin_to_one_core() -> None:
    """Single-core figures: one OpenCV thread, and the process pinned to one CPU where the OS allows it."""
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def decoders(budget_ms: float) -> dict[str, Callable[[np.ndarray], list[DecodedCode]]]:
    """What is measured. Engines alone get the grayscale conversion inside their timing too, like the chain.

    "chain-thorough" runs every fallback even when the fast path located nothing: what the blind-step rule
    saves in time and costs in reads."""
    zxing, zbar = ZxingEngine(), ZbarEngine()
    chain = make_chain(["zxing", "zbar"], budget_ms=budget_ms, strict=True)
    thorough = DecoderChain([ZxingEngine(), ZbarEngine()], budget_ms, blind_fallbacks=default_fallbacks(2))
    return {
        "zxing": lambda frame: zxing.decode(as_gray(frame)),
        "zbar": lambda frame: zbar.decode(as_gray(frame)),
        "chain": chain.decode,
        "chain-thorough": thorough.decode,
    }


def run(samples: list[Sample], budget_ms: float, by_condition: bool, only: list[str] | None = None) -> None:
    for name, decode in decoders(budget_ms).items():
        if only and name not in only:
            continue
        for sample in samples[:10]:
            decode(sample.image)  # warm-up: first calls pay for allocations and the chain learns step costs
        by_size: dict[str, Tally] = defaultdict(Tally)
        by_cond: dict[str, Tally] = defaultdict(Tally)
        by_step: dict[str, int] = defaultdict(int)
        for sample in samples:
            t0, c0 = time.perf_counter(), time.thread_time()
            codes = decode(sample.image)
            ms, cpu_ms = (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000
            for code in codes:
                by_step[code.engine] += code.data == sample.payload
            size = f"{sample.size[0]}x{sample.size[1]}"
            by_size[size].add(sample, codes, ms, cpu_ms)
            by_cond[f"{sample.condition} @ {size}"].add(sample, codes, ms, cpu_ms)
        for size, tally in sorted(by_size.items()):
            print(tally.row(f"{name} @ {size}"))
        if name.startswith("chain"):
            steps = sorted(by_step.items(), key=lambda kv: -kv[1])
            print("  chain reads by step: " + ", ".join(f"{label} {n}" for label, n in steps))
        if by_condition:
            for cond, tally in sorted(by_cond.items()):
                print(tally.row(f"  {cond}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=250, help="frames per size (default 250)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=25.0, help="chain budget in ms per frame (default 25)")
    parser.add_argument("--by-condition", action="store_true", help="also break the figures down per condition")
    parser.add_argument(
        "--only", nargs="+", choices=["zxing", "zbar", "chain", "chain-thorough"], help="measure only these decoders"
    )
    args = parser.parse_args()
    pin_to_one_core()
    t0 = time.perf_counter()
    samples = list(generate(args.n, args.seed))
    n_empty = sum(s.payload is None for s in samples)
    print(
        f"entrance set: {len(samples)} frames ({n_empty} empty), seed {args.seed}, "
        f"generated in {time.perf_counter() - t0:.1f} s; chain budget {args.budget} ms; 1 core"
    )
    print(HEADER)
    run(samples, args.budget, args.by_condition, args.only)
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
