"""CPU on a live 1280×720, 15 fps HTTP MJPEG stream (an IP camera imitated on 127.0.0.1), measured in one run.

    python benchmarks/bench_stream.py                 # 40 s per measured process after 5 s warm-up, ~3 min
    python benchmarks/bench_stream.py --seconds 60 --skip-station

The stream loops a 24 s scene: an empty doorway with sensor noise (each frame differs, as a real camera's do),
and four visitors holding a CCCD code for 1.5 s each. One after the other, each as its own process reading the
same stream:
- floor: a bare process that captures each frame and runs one zxing-cpp pass on it (QR only, scale pyramid on);
- `kiosk scan --source URL` (the real command, motion gate and all);
- the station (`kiosk station --source URL`, offscreen Qt), unless --skip-station.
CPU is the process's user+system time from /proc over the same window, as % of one core and as a ratio to the
floor; peak RSS from /proc (VmHWM). The server runs in this process and is not counted."""

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


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(name: str, argv: list[str], warmup: float, seconds: float, env: dict[str, str]) -> tuple[float, float]:
    """(% of one core over the window, peak RSS MB) of the process `argv`."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    try:
        time.sleep(warmup)
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited early: {proc.stderr.read() if proc.stderr else ''}")
        c0, t0 = proc_cpu(proc.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = proc_cpu(proc.pid), time.monotonic()
        rss = proc_hwm_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 100.0 * (c1 - c0) / (t1 - t0), rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--skip-station", action="store_true")
    args = parser.parse_args()
    frames = stream_frames()
    tmp = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "data"))
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("QRC_CONFIG", None)
    kiosk = [sys.executable, "-m", "kiosk"]
    with MjpegServer(frames, fps=FPS) as server:
        runs = {
            "floor (capture + one zxing pass)": [sys.executable, "-c", FLOOR, server.url],
            "kiosk scan": [*kiosk, "scan", "--source", server.url, "--db", str(tmp / "scan.sqlite3"), "--json"],
        }
        if not args.skip_station:
            runs["station (offscreen)"] = [
                *kiosk,
                "station",
                "--source",
                server.url,
                "--db",
                str(tmp / "station.sqlite3"),
                "--size",
                "1024x600",
                "--log-file",
                str(tmp / "station.log"),
            ]
        results = {name: measure(name, argv, args.warmup, args.seconds, env) for name, argv in runs.items()}
    floor = next(iter(results.values()))[0]
    print(f"1280x720 @ {FPS} fps HTTP MJPEG, {args.seconds:.0f} s per process after {args.warmup:.0f} s warm-up")
    print("| process | CPU, % of one core | ratio to the floor | peak RSS MB |")
    print("|---|---:|---:|---:|")
    for name, (cpu, rss) in results.items():
        print(f"| {name} | {cpu:.1f} | {cpu / floor:.2f}x | {rss:.0f} |")


if __name__ == "__main__":
    main()
