"""`kiosk scan` throughput on a 720p video: frames per second, CPU and peak RSS of the real command.

    python benchmarks/bench_scan.py [--seconds 60] [--runs 3]

Writes a 1280x720 MJPG video of visitors (15 fps) with `cv2.VideoWriter`, runs `kiosk scan` on it as a child
process (the clock is the video's, frames as fast as the machine allows) and reports the median over runs.
Targets (issue 2): >= 60 frames/s, RSS <= 200 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.demo import demo_people  # noqa: E402
from tests.support.media import write_video  # noqa: E402


def make_video(path: Path, seconds: float) -> int:
    people = demo_people(max(2, int(seconds / 3)), seed=3)
    script: list[tuple[str | None, float]] = []
    while sum(s for _, s in script) < seconds:
        for person in people:
            script += [(person.payload, 1.5), (None, 1.5)]
    write_video(path, script, fps=15, size=(1280, 720))
    return round(sum(s for _, s in script) * 15)


def run_once(video: Path, db: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of one `kiosk scan` child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk",
            "scan",
            "--source",
            str(video),
            "--db",
            str(db),
            "--start-time",
            "2026-11-25T08:00:00+07:00",
            "--json",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the video")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "visitors-720p.avi"
        frames = make_video(video, args.seconds)
        results = [run_once(video, Path(tmp) / f"run{i}.sqlite3") for i in range(args.runs)]
    walls, cpus, rss = zip(*results, strict=True)
    wall = statistics.median(walls)
    print(f"video: {frames} frames of 1280x720 at 15 fps ({frames / 15:.0f} s)")
    print(
        f"kiosk scan: median {frames / wall:.0f} frames/s (wall {wall:.2f} s, incl. start-up), "
        f"CPU {statistics.median(cpus):.2f} s ({statistics.median(cpus) / wall * 100:.0f}% of one core), "
        f"peak RSS {max(rss):.0f} MiB"
    )


if __name__ == "__main__":
    main()
