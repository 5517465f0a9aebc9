"""`kiosk scan --source rtsp://...` against a real RTSP server (GStreamer's gst-rtsp-server, tests/support/
rtsp_server.py) on 127.0.0.1 with Basic authentication, serving JPEG frames of real QR codes: it reads, it
reconnects within 5 s when the stream stops and comes back, and the password in the URL never appears in
anything it prints (decisions, --verbose logs, OpenCV's and FFmpeg's messages, the error of a refused login)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import pytest

from kiosk.demo import demo_people
from tests.support import required
from tests.support.media import frame_with_code
from tests.support.paths import REPO_ROOT
from tests.support.postgres import free_port
from tests.support.required import unavailable

pytestmark = pytest.mark.slow
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-gi; the project's venv has no PyGObject
SERVER = REPO_ROOT / "tests" / "support" / "rtsp_server.py"
USER, PASSWORD = "door", "s3cret@Pa55"  # an "@" in a password: the last "@" ends the user info


def rtsp_available() -> None:
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True).returncode:
        unavailable(required.DEPLOY_TOOLS, "GStreamer's RTSP server is not installed (gir1.2-gst-rtsp-server-1.0)")


class RtspServer:
    def __init__(self, port: int, frames: Path) -> None:
        self.port, self.frames = port, frames
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> float:
        """Start serving; returns the monotonic time at which it listens."""
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER), str(self.port), str(self.frames), "--user", USER, "--password", PASSWORD],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"
        return time.monotonic()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def write_frames(folder: Path, payload: str, count: int = 5) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("frame*.jpg"):
        old.unlink()
    for index in range(count):
        assert cv2.imwrite(str(folder / f"frame{index:03d}.jpg"), frame_with_code(payload, box_size=5))
    return folder


@pytest.fixture
def rtsp(tmp_path: Path) -> Iterator[Callable[[str], RtspServer]]:
    rtsp_available()
    servers: list[RtspServer] = []
    port = free_port()

    def serve(payload: str) -> RtspServer:
        server = RtspServer(port, write_frames(tmp_path / "frames", payload))
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.stop()


class Scan:
    """`kiosk -v scan --json` on a URL, its stdout and stderr collected line by line on threads."""

    def __init__(self, url: str, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "-v", "scan", "--source", url, "--db", str(db), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.decisions: queue.Queue[tuple[float, dict[str, str]]] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, args=(self.process.stdout, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self.process.stderr, False), daemon=True).start()

    def _read(self, stream: object, decisions: bool) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.output.append(line)
            if decisions and line.startswith("{"):
                self.decisions.put((time.monotonic(), json.loads(line)))

    def next_decision(self, timeout: float) -> tuple[float, dict[str, str]]:
        return self.decisions.get(timeout=timeout)

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        time.sleep(0.2)  # the reader threads drain the pipes
        return "".join(self.output)


def test_reads_reconnects_within_5_s_and_never_shows_the_password(rtsp, tmp_path: Path) -> None:  # noqa: ANN001
    first, second = demo_people(2, seed=11)
    server = rtsp(first.payload)
    server.start()
    url = f"rtsp://{USER}:{PASSWORD}@127.0.0.1:{server.port}/door"
    scan = Scan(url, tmp_path / "events.sqlite3")
    try:
        _, decision = scan.next_decision(timeout=30)
        assert decision["decision"] == "entry" and decision["id_number"] == first.id_number

        server.stop()  # the camera goes away ...
        time.sleep(3)
        write_frames(server.frames, second.payload)  # ... and comes back showing the next visitor
        back = server.start()
        seen, decision = scan.next_decision(timeout=30)
        assert decision["id_number"] == second.id_number
        assert seen - back < 5.0, f"reconnected {seen - back:.1f} s after the camera came back"
    finally:
        output = scan.stop()
    assert "lost; reconnecting" in output and "reconnected" in output  # the -v log saw both
    assert not [part for part in (PASSWORD, *PASSWORD.split("@"), f"{USER}:") if part in output]


def test_a_refused_login_says_so_without_the_password(rtsp, tmp_path: Path) -> None:  # noqa: ANN001
    server = rtsp(demo_people(1, seed=12)[0].payload)
    server.start()
    wrong = "wr0ng@Pa55word"
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "-v", "scan", "--db", str(tmp_path / "e.sqlite3"), "--source"]
        + [f"rtsp://{USER}:{wrong}@127.0.0.1:{server.port}/door"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "could not be opened" in done.stderr
    assert f"rtsp://127.0.0.1:{server.port}/door" in done.stderr  # which camera, without its credentials
    shown = done.stderr + done.stdout
    assert not [part for part in (wrong, *wrong.split("@")) if part in shown] and "Traceback" not in shown
