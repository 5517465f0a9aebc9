"""A camera that cannot be opened at start-up is tried again with a growing pause, and meanwhile the visitor is
told the camera is not working instead of being asked to show a code (issue 10, item 7)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from kiosk.sources import open_source
from kiosk.sources.base import SourceError
from tests.support.media import write_video
from tests.support.station import make_settings, stations
from ui.runtime.camera import CameraThread

station_factory = pytest.fixture(stations)


def test_a_camera_missing_at_start_is_retried_and_the_screen_says_so(
    tmp_path: Path, station_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ui.runtime.camera.OPEN_RETRY_INITIAL_S", 0.05)
    monkeypatch.setattr("ui.runtime.camera.OPEN_RETRY_MAX_S", 0.2)
    video = write_video(tmp_path / "camera.avi", [(None, 30.0)], fps=5)
    plugged_in = threading.Event()
    attempts: list[float] = []

    def late_webcam(spec: str) -> Any:
        attempts.append(1)
        if not plugged_in.is_set():
            raise SourceError("camera 0 could not be opened (not connected, in use, or no permission)")
        return open_source(str(video))

    station = station_factory(make_settings(tmp_path), source="0", open_source_fn=late_webcam)
    panel = station.window.result_panel
    station.qtbot.waitUntil(lambda: len(attempts) >= 4, timeout=5000)  # tried again, not given up
    assert all(state.startswith("error: ") for state in station.camera_states)
    assert panel.camera_down
    assert "camera 0 could not be opened" in station.window.status.camera.toolTip()  # the guard sees which device
    assert panel.title.text() == "Camera không hoạt động" and panel.reason.text() == "Vui lòng gặp nhân viên"
    plugged_in.set()
    station.qtbot.waitUntil(lambda: "ok" in station.camera_states, timeout=5000)
    station.qtbot.waitUntil(lambda: station.window.preview.frames_shown > 0, timeout=5000)
    assert not panel.camera_down and panel.title.text() == "Đưa mã QR cá nhân vào trước camera"


def test_the_pause_between_attempts_grows_to_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.sources.slot import LatestFrameSlot

    waits: list[float] = []

    def never_opens() -> Any:
        raise SourceError("camera 0 could not be opened")

    thread = CameraThread(never_opens, LatestFrameSlot())
    thread.retry_initial_s, thread.retry_max_s = 1.0, 8.0

    def record_wait(timeout: float | None = None) -> bool:
        waits.append(float(timeout or 0))
        if len(waits) >= 6:
            thread.stop()
        return False

    monkeypatch.setattr(thread._stop, "wait", record_wait)
    assert thread._open_with_retries() is None  # stopped while away: gives up quietly
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
