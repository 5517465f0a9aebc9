"""An IP camera over HTTP MJPEG, imitated by a real server on 127.0.0.1 (tests/mjpeg_server.py).

`kiosk scan --source http://…/stream.mjpg` decides a visitor shown on the stream; a stream that stalls or sends
garbage parts puts the source into the lost / reconnecting state within its timeouts, never a hang."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from kiosk.demo import demo_people
from kiosk.sources.base import SourceState
from kiosk.sources.camera import CameraSource, network_opener
from tests.support.media import frame_with_code
from tests.support.mjpeg_server import MjpegServer

FPS = 15


@pytest.fixture(scope="module")
def person():
    return demo_people(1, seed=21)[0]


def _visit(payload: str) -> list:
    """One second of empty door, two seconds of a code, then the empty door again (the stream loops)."""
    empty, shown = frame_with_code(None, (1280, 720)), frame_with_code(payload, (1280, 720), box_size=6)
    return [empty] * FPS + [shown] * (2 * FPS) + [empty] * (3 * FPS)


def test_kiosk_scan_reads_a_visitor_from_an_http_mjpeg_stream(tmp_path, person) -> None:
    with MjpegServer(_visit(person.payload), fps=FPS) as server:
        result = subprocess.run(
            [sys.executable, "-m", "kiosk", "scan", "--source", server.url, "--db", str(tmp_path / "e.sqlite3")]
            + ["--json", "--max-frames", str(4 * FPS)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    got = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [(d["decision"], d["id_number"]) for d in got] == [("entry", person.id_number)]
    assert server.parts_sent >= 3 * FPS  # it really came over the wire


def _watch(source: CameraSource, seconds: float) -> tuple[list[SourceState], int, float]:
    """(states seen in order, frames read, the longest a single read() blocked)."""
    states: list[SourceState] = []
    frames, longest, end = 0, 0.0, time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        frame = source.read()
        longest = max(longest, time.monotonic() - t0)
        frames += frame is not None
        if not states or states[-1] is not source.state:
            states.append(source.state)
        if frame is None:
            time.sleep(0.01)
    return states, frames, longest


@pytest.mark.parametrize("fault", ["stall_after", "garbage_after", "close_after"])
def test_a_stalled_or_garbled_stream_is_lost_and_reconnected_never_a_hang(fault: str) -> None:
    frames = [frame_with_code(b"stream", (640, 480))]
    with MjpegServer(frames, fps=FPS, **{fault: 8}) as server:
        source = CameraSource(network_opener(server.url, timeout_s=1.5), lost_after_s=1.0, backoff_initial_s=0.1)
        try:
            states, read, longest = _watch(source, 6.0)
        finally:
            source.close()
    assert read >= 8  # the good parts were delivered
    assert SourceState.LOST in states and SourceState.RECONNECTING in states, states
    assert server.connections >= 2  # it reconnected by itself
    assert longest < 1.5 + 1.0, longest  # one read waits at most about the read timeout


@pytest.mark.parametrize("fault", ["stall_after", "garbage_after"])
def test_kiosk_scan_keeps_running_through_a_stalled_or_garbled_stream(tmp_path, fault: str) -> None:
    """The headless command on a camera that hangs or sends garbage parts: it says so on stderr, reconnects, and
    stops when asked."""
    frames = [frame_with_code(None, (640, 480))]
    with MjpegServer(frames, fps=FPS, **{fault: 5}) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "scan", "--source", server.url, "--db", str(tmp_path / "e.sqlite3")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while server.connections < 2 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
            assert proc.poll() is None  # still running, not crashed
            assert server.connections >= 2  # lost the stalled stream and opened it again
        finally:
            proc.terminate()
            _, stderr = proc.communicate(timeout=15)
    assert "lost; reconnecting" in stderr
    assert "Traceback" not in stderr


def test_doctor_reports_the_size_and_rate_the_camera_delivers(tmp_path) -> None:
    import os

    with MjpegServer([frame_with_code(None, (800, 448))], fps=10) as server:
        env = dict(os.environ, QRC_CAMERA__SOURCE=server.url)
        result = subprocess.run(
            [sys.executable, "-m", "kiosk", "doctor", "--db", str(tmp_path / "e.sqlite3"), "--probe-cameras", "0"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    line = next(line for line in result.stdout.splitlines() if "camera:" in line)
    assert line.startswith("[ok] camera: the configured source opens; delivers 800x448 at "), line
    fps = float(line.split(" at ")[1].split(" fps")[0])
    assert 7 <= fps <= 13, line
