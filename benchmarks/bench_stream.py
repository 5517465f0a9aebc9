"""CPU on a live 1280×720, 15 fps HTTP MJPEG stream (an IP camera imitated on 127.0.0.1), measured in one run.

    python benchmarks/bench_stream.py                 # 40 s per measured process after 5 s warm-up, ~3 min
    python benchmarks/bench_stream.py --seconds 60 --skip-station
    git archive 2a7cb82 kiosk ui sync assets | tar -x -C /tmp/base    # the code when issue 9 was filed
    python benchmarks/bench_stream.py --baseline /tmp/base --rounds 2   # both, alternating, same stream

The stream loops a 24 s scene: an empty doorway with sensor noise (each frame differs, as a real camera's do),
and four visitors holding a CCCD code for 1.5 s each. One after the other, each as its own process reading the
same stream:
- floor: a bare process that captures each frame and runs one zxing-cpp pass on it (QR only, scale pyramid on);
- `kiosk scan --source URL` (the real command, motion gate and all);
- the station (`kiosk station --source URL`, offscreen Qt), unless --skip-station.
CPU is the process's user+system time from /proc over the same window, as % of one core and as a ratio to the
floor; peak RSS (VmHWM) and the RSS at the end of the window (anonymous + file-backed) from /proc; per thread,
the busiest threads' CPU. The server runs in this process and is not counted. `--baseline DIR` runs the same
commands on another copy of the code too (`kiosk`, `ui`, `sync`, `assets` exported from an older commit), each
variant on its own database; every child runs in a scratch folder so that `python -m kiosk` imports the copy on
its PYTHONPATH, never the folder it was started from."""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proc_stats import proc_cpu_s, proc_memory_mb, thread_times  # noqa: E402

from kiosk.demo import make_cccd_payload  # noqa: E402
from kiosk.sources import scene  # noqa: E402
from tests.support.mjpeg_server import MjpegServer  # noqa: E402

FPS = 15
FLOOR = """
import sys, cv2, zxingcpp
cv2.setNumThreads(1)
cap = cv2.VideoCapture(sys.argv[1], cv2.CAP_FFMPEG)
while True:
    ok, frame = cap.read()
    if not ok:
        break
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=False)
"""


def stream_frames(seconds: float = 24.0) -> list[bytes]:
    """The looped scene as JPEG parts (encoded once): noisy empty doorway, four visitors."""
    rng = random.Random(0)
    hall = scene.background(1280, 720, seed=5)
    visits = {int(FPS * (2 + 6 * k)): make_cccd_payload(rng).encode() for k in range(4)}
    frames: list[bytes] = []
    showing: bytes | None = None
    until = -1
    for i in range(int(seconds * FPS)):
        if i in visits:
            showing, until = visits[i], i + int(1.5 * FPS)
        frame = hall.copy()
        if showing is not None and i < until:
            qr = scene.qr_image(showing, 5)
            x, y = 450 + (i % 3), 150 + (i % 2)  # a hand is never perfectly still
            frame[y : y + qr.shape[0], x : x + qr.shape[1]] = qr[:, :, None]
        noise = np.empty(frame.shape, np.int16)
        cv2.randn(noise, 0, 2.0)
        frame = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        frames.append(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return frames


def measure(argv: list[str], warmup: float, seconds: float, env: dict[str, str], cwd: Path) -> dict[str, object]:
    """CPU (% of one core over the window), memory and the busiest threads of the process `argv`."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True, cwd=cwd)
    try:
        time.sleep(warmup)
        if proc.poll() is not None:
            raise SystemExit(f"{argv[2:4]} exited early: {proc.stderr.read() if proc.stderr else ''}")
        c0, t0, threads0 = proc_cpu_s(proc.pid), time.monotonic(), thread_times(proc.pid)
        time.sleep(seconds)
        c1, t1, threads1 = proc_cpu_s(proc.pid), time.monotonic(), thread_times(proc.pid)
        memory = proc_memory_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    busy = {name: 100.0 * (spent - threads0.get(name, 0.0)) / (t1 - t0) for name, spent in threads1.items()}
    top = sorted(busy.items(), key=lambda item: -item[1])[:4]
    return {"cpu": 100.0 * (c1 - c0) / (t1 - t0), **memory, "threads": ", ".join(f"{n} {c:.1f}" for n, c in top)}


def commands(url: str, code: Path, tmp: Path) -> dict[str, list[str]]:
    """The measured processes for the copy of the code at `code` (its own databases under `tmp`)."""
    kiosk = [sys.executable, "-m", "kiosk"]
    station_db, scan_db = str(tmp / f"station-{code.name}.sqlite3"), str(tmp / f"scan-{code.name}.sqlite3")
    return {
        "kiosk scan": [*kiosk, "scan", "--source", url, "--db", scan_db, "--json"],
        "station (offscreen)": [
            *kiosk,
            *("station", "--source", url, "--db", station_db, "--size", "1024x600"),
            *("--log-file", str(tmp / f"station-{code.name}.log")),
        ],
    }


def report(rows: list[tuple[str, dict[str, object], float]]) -> None:
    """One line per measured process; each ratio is to the floor measured in the same round."""
    print(
        "| process | CPU, % of one core | ratio to the floor | peak RSS MB | RSS at the end (anon + file) | threads |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for name, r, floor in rows:
        cpu = float(r["cpu"])  # type: ignore[arg-type]
        end = f"{r.get('rss', 0):.0f} ({r.get('anon', 0):.0f} + {r.get('file', 0):.0f})"
        print(f"| {name} | {cpu:.1f} | {cpu / floor:.2f}x | {r.get('peak', 0):.0f} | {end} | {r['threads']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--skip-station", action="store_true")
    parser.add_argument("--baseline", type=Path, help="another copy of the code (kiosk, ui, sync, assets) to compare")
    parser.add_argument("--rounds", type=int, default=1, help="measure every process this many times, alternating")
    args = parser.parse_args()
    frames = stream_frames()
    tmp = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    scratch = tmp / "cwd"
    scratch.mkdir()
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "data"))
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("QRC_CONFIG", None)
    copies = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    rows: list[tuple[str, dict[str, object], float]] = []
    with MjpegServer(frames, fps=FPS) as server:
        for _ in range(args.rounds):
            floor = measure([sys.executable, "-c", FLOOR, server.url], args.warmup, args.seconds, env, scratch)
            floor_cpu = float(floor["cpu"])  # type: ignore[arg-type]
            rows.append(("floor (capture + one zxing pass)", floor, floor_cpu))
            for label, code in copies.items():
                for name, argv in commands(server.url, code, tmp).items():
                    if args.skip_station and name.startswith("station"):
                        continue
                    measured = measure(argv, args.warmup, args.seconds, dict(env, PYTHONPATH=str(code)), scratch)
                    rows.append((f"{name} ({label})" if args.baseline else name, measured, floor_cpu))
    print(
        f"1280x720 @ {FPS} fps HTTP MJPEG, {args.seconds:.0f} s per process after {args.warmup:.0f} s warm-up, "
        f"{args.rounds} round(s); load average {os.getloadavg()[0]:.1f}"
    )
    report(rows)


if __name__ == "__main__":
    main()
