"""The station under load: a 720p, 15 fps video stands in for the webcam; the real window (offscreen by default,
or under Xvfb with QT_QPA_PLATFORM=xcb) runs with the real pipeline and a real SQLite file.

Measures, after a 2 s warm-up: CPU of the whole process (all threads) as a share of one core, peak RSS, and for
each visitor the time from the camera delivering the first frame that shows the code to the result panel being
painted (paint event of the verdict overlay after the result was set). Targets (issue 3): CPU <= 25 %, RSS <= 300 MB,
frame-with-code -> result on screen p95 <= 150 ms.

    python benchmarks/bench_ui.py [--visitors 12] [--size 1024x600]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer  # noqa: E402

from kiosk.config import settings_from_mapping  # noqa: E402
from kiosk.demo import demo_people  # noqa: E402
from kiosk.sources.scene import qr_image  # noqa: E402

FPS = 15
SIZE = (1280, 720)
GAP_S, SHOW_S = 1.4, 1.2


def make_video(path: Path, payloads: list[str]) -> list[int]:
    """A 720p MJPG video: empty scene, then each code held for SHOW_S. Returns each code's first frame index."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, SIZE)
    rng = np.random.default_rng(1)
    background = np.full((SIZE[1], SIZE[0], 3), 120, np.uint8)
    background[: SIZE[1] // 2] = (150, 140, 130)
    background = np.clip(background.astype(np.int16) + rng.integers(-6, 6, background.shape), 0, 255).astype(np.uint8)
    first_frames, index = [], 0

    def write(frame: np.ndarray, seconds: float) -> None:
        nonlocal index
        for _ in range(round(seconds * FPS)):
            writer.write(frame)
            index += 1

    write(background, 2.0)
    for payload in payloads:
        frame = background.copy()
        code = cv2.cvtColor(qr_image(payload, module_px=5), cv2.COLOR_GRAY2BGR)
        h, w = code.shape[:2]
        top, left = (SIZE[1] - h) // 2, (SIZE[0] - w) // 2
        frame[top : top + h, left : left + w] = code
        first_frames.append(index)
        write(frame, SHOW_S)
        write(background, GAP_S)
    writer.release()
    return first_frames


class PaintWatch(QObject):
    """Records when the result panel paints after each new result (the moment it is on screen)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.painted: list[float] = []

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and self.armed:
            self.armed = False
            self.painted.append(time.monotonic())
        return False


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_cpu() -> dict[str, float]:
    """CPU seconds per OS thread name (Linux /proc), to tell the GUI's share from the camera's and the decoder's."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        name = name if name.startswith("qrc-") else ("gui" if task.name == str(os.getpid()) else "other")
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


def run_loop(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in load)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=12)
    parser.add_argument("--size", default="1024x600")
    args = parser.parse_args()
    from ui.app import build_station, make_application, open_store

    work = Path(tempfile.mkdtemp(prefix="qrc-bench-ui-"))
    people = demo_people(args.visitors, seed=3)
    first_frames = make_video(work / "visitors.avi", [person.payload for person in people])
    settings = settings_from_mapping(
        {"store": {"db_path": str(work / "events.sqlite3")}, "ui": {"sound": True, "result_hold_seconds": 1.0}}
    )
    settings = dataclasses.replace(settings, path=str(work / "config.toml"))
    app = make_application(sys.argv[:1])
    store = open_store(settings)
    station = build_station(settings, str(work / "visitors.avi"), store)
    width, height = (int(x) for x in args.size.split("x"))
    station.window.resize(width, height)
    station.window.show()
    watch = PaintWatch()
    station.window.verdict.installEventFilter(watch)  # what the visitor sees: the verdict over every page
    shown: list[float] = []
    views: list[object] = []
    station.shown.connect(
        lambda view: (views.append(view), shown.append(time.monotonic()), setattr(watch, "armed", True))
    )
    station.start()
    read_times: dict[
        int, float
    ] = {}  # frame index -> when the camera delivered it (every frame is previewed at 15 fps)
    station.camera_thread.preview.connect(lambda preview: read_times.__setitem__(preview.index, preview.read_at))
    duration = 2.0 + args.visitors * (SHOW_S + GAP_S)
    run_loop(2.0)
    load_before = os.getloadavg()
    cpu0, wall0, threads0 = cpu_seconds(), time.monotonic(), thread_cpu()
    decoded0 = station.pipeline_thread.frames_decoded
    run_loop(duration - 2.0 + 0.5)
    wall = time.monotonic() - wall0
    cpu = (cpu_seconds() - cpu0) / wall
    threads1 = thread_cpu()
    per_thread = {name: (threads1[name] - threads0.get(name, 0.0)) / wall for name in threads1}
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    frames_decoded = station.pipeline_thread.frames_decoded
    decoded_measured = frames_decoded - decoded0
    load_after = os.getloadavg()
    preview_frames = station.window.preview.frames_shown
    station.stop()
    station.services.tasks.shutdown()
    store.close()
    del app

    latencies = [
        (painted - read_times[frame]) * 1000
        for frame, painted in zip(first_frames, watch.painted, strict=False)
        if frame in read_times
    ]
    print(
        f"station benchmark: {args.visitors} visitors, 1280x720 @ {FPS} fps MJPG, window {args.size}, "
        f"platform {os.environ['QT_QPA_PLATFORM']}, engines {','.join(settings.camera.engines)}, "
        f"stable_frames {settings.camera.stable_frames}"
    )
    print(
        f"results shown: {len(views)} ({sum(v.outcome == 'entry' for v in views)} entries); "
        f"frames decoded {frames_decoded}, preview frames painted {preview_frames}"
    )
    print(f"CPU: {cpu * 100:.1f} % of one core (target <= 25 %)")
    print("  by thread: " + ", ".join(f"{name} {share * 100:.1f} %" for name, share in sorted(per_thread.items())))
    # CPU time per frame: what each frame costs the station, which other processes on a shared machine inflate
    # far less than wall-clock latency (a busy core delays a frame; it does not add to its CPU time).
    camera_frames = wall * FPS
    decoder_s = sum(share for name, share in per_thread.items() if "pipe" in name or "decod" in name) * wall
    print(
        f"CPU time per camera frame: {cpu * wall / camera_frames * 1000:.2f} ms (whole process); decoding thread "
        f"{decoder_s / max(decoded_measured, 1) * 1000:.2f} ms per decoded frame ({decoded_measured} decoded)"
    )
    print(f"load average (1, 5, 15 min) before: {_load(load_before)}; after: {_load(load_after)} (2 cores)")
    print(f"peak RSS: {peak_rss_mb:.0f} MB (target <= 300 MB)")
    to_shown = [
        (t - read_times[frame]) * 1000 for frame, t in zip(first_frames, shown, strict=False) if frame in read_times
    ]
    paint_gap = [(p - t) * 1000 for t, p in zip(shown, watch.painted, strict=False)]
    if to_shown:
        print(
            f"  of which frame -> result handled on the GUI thread: median {statistics.median(to_shown):.0f} ms, "
            f"p95 {percentile(to_shown, 0.95):.0f} ms; handled -> painted: median "
            f"{statistics.median(paint_gap):.0f} ms, p95 {percentile(paint_gap, 0.95):.0f} ms"
        )
    if latencies:
        print(
            f"frame with code -> result painted: median {statistics.median(latencies):.0f} ms, "
            f"p95 {percentile(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms over {len(latencies)} "
            f"(target p95 <= 150 ms; {settings.camera.stable_frames} matching frames are needed, "
            f"{1000 / FPS:.0f} ms apart)"
        )
    ok = (
        len(views) == args.visitors
        and latencies
        and percentile(latencies, 0.95) <= 150
        and cpu <= 0.25
        and peak_rss_mb <= 300
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
