"""The station on an IP camera that stalls or sends garbage (issue 9, bad input): the screen says the camera is
lost instead of asking for a code, the GUI never freezes, and a visitor is read once the stream is back."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from kiosk.demo import demo_people
from kiosk.sources import CameraSource
from kiosk.sources.camera import network_opener
from tests.support.media import frame_with_code
from tests.support.mjpeg_server import MjpegServer
from tests.support.station import make_settings, stations, wait_for_views

station_factory = pytest.fixture(stations)
VISITOR = demo_people(1, seed=41)[0]


@pytest.mark.parametrize("fault", ["stall_after", "garbage_after"])
def test_a_stalling_stream_shows_camera_lost_never_freezes_and_reads_again(
    tmp_path: Path, station_factory: Any, fault: str
) -> None:
    frames = [frame_with_code(VISITOR.payload.encode("utf-8"), (640, 480))]
    with MjpegServer(frames, fps=10, **{fault: 12}) as server:

        def impatient_camera(spec: str) -> Any:  # the real network source, with a test's short timeouts
            return CameraSource(network_opener(spec, timeout_s=1.5), lost_after_s=1.0, backoff_initial_s=0.1)

        station = station_factory(make_settings(tmp_path), source=server.url, open_source_fn=impatient_camera)
        ticks: list[float] = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start(10)
        panel = station.window.result_panel
        down: list[bool] = []
        station.camera_state_changed.connect(lambda _state: down.append(panel.camera_down))
        station.qtbot.waitUntil(lambda: "lost" in station.camera_states, timeout=15000)
        station.qtbot.waitUntil(lambda: server.connections >= 2, timeout=15000)  # it reconnected by itself
        timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert max(gaps) < 0.5, f"the GUI froze for {max(gaps):.2f} s while the camera was stalled"
    assert True in down  # the idle screen said the camera is down, not "show your code"
    views = wait_for_views(station.qtbot, station, 1)  # read before the fault, once: not again per reconnection
    assert views[0].outcome == "entry" and len(station.shown_views) == 1
