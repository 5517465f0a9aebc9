"""The station end to end, offscreen: a recorded video stands in for the webcam, a real SQLite file records."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import pytest
from PySide6.QtCore import QTimer

from kiosk.demo import demo_people
from kiosk.privacy import mask_name
from kiosk.sources import CameraSource
from kiosk.store import Store
from tests.support.media import write_video
from tests.support.station import make_settings, stations, wait_for_views

station_factory = pytest.fixture(stations)

PEOPLE = demo_people(3, seed=7)


@pytest.mark.slow
def test_video_entry_then_same_code_is_duplicate(tmp_path: Path, station_factory, capsys) -> None:
    person = PEOPLE[0]
    # The code leaves the picture for longer than the stabiliser's 2 s memory, then comes back within cooldown.
    video = write_video(
        tmp_path / "visitors.avi", [(None, 0.3), (person.payload, 0.7), (None, 2.4), (person.payload, 0.7), (None, 0.3)]
    )
    settings = make_settings(tmp_path, station={"capacity": 100, "cooldown_seconds": 600})
    station = station_factory(settings, source=str(video))
    views = wait_for_views(station.qtbot, station, 2)
    assert [v.outcome for v in views[:2]] == ["entry", "duplicate"]
    entry = views[0]
    assert entry.name == mask_name(person.full_name) and person.full_name not in entry.name
    assert entry.id_tail.endswith(person.id_number[-4:]) and person.id_number not in entry.id_tail
    assert entry.occupancy_text == "1 / 100"
    assert station.window.result_panel.title.text() == views[1].title
    assert station.sounds_played[:2] == ["accept", "warn"]
    out = capsys.readouterr().out
    assert "entry" in out and mask_name(person.full_name) in out and person.full_name not in out
    assert person.id_number not in out
    with Store.open(settings.store.db_path) as store:
        assert store.occupancy() == 1


def test_capacity_reached_is_full(tmp_path: Path, station_factory) -> None:
    first, second = PEOPLE[0], PEOPLE[1]
    video = write_video(
        tmp_path / "two.avi", [(None, 0.2), (first.payload, 0.6), (None, 0.3), (second.payload, 0.6), (None, 0.2)]
    )
    settings = make_settings(tmp_path, station={"capacity": 1})
    station = station_factory(settings, source=str(video))
    views = wait_for_views(station.qtbot, station, 2)
    assert [v.outcome for v in views[:2]] == ["entry", "full"]
    assert views[1].title == "ĐÃ ĐỦ NGƯỜI"  # Vietnamese by default
    assert views[1].occupancy_text == "1 / 1"
    assert station.sounds_played[1] == "reject"


class SlowOnce:
    """A decoder that holds its first frame for `hold_s` (a slow PC on a hard frame); decodes normally after."""

    def __init__(self, inner, hold_s: float) -> None:
        self.inner, self.hold_s = inner, hold_s
        self.holding = threading.Event()
        self.released = threading.Event()

    def decode(self, image):
        if not self.released.is_set():
            self.holding.set()
            time.sleep(self.hold_s)
            self.released.set()
        return self.inner.decode(image)


def test_gui_keeps_running_while_decoding_is_held(tmp_path: Path, station_factory) -> None:
    video = write_video(tmp_path / "idle.avi", [(None, 3.0), (PEOPLE[2].payload, 0.8)])
    settings = make_settings(tmp_path)
    slow: list[SlowOnce] = []
    station = station_factory(
        settings, source=str(video), decoder_wrapper=lambda inner: slow.append(SlowOnce(inner, 1.0)) or slow[0]
    )
    station.qtbot.waitUntil(slow[0].holding.is_set, timeout=5000)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    frames_before = station.window.preview.frames_shown
    station.qtbot.waitUntil(slow[0].released.is_set, timeout=5000)
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) >= 40, f"the event loop ran only {len(ticks)} times during a 1 s decode"
    assert max(gaps) < 0.25, f"the GUI stalled for {max(gaps):.2f} s"
    assert station.window.preview.frames_shown - frames_before >= 8  # the preview kept moving
    views = wait_for_views(station.qtbot, station, 1)
    assert views[0].outcome == "entry"


def test_camera_lost_and_back(tmp_path: Path, station_factory) -> None:
    video = write_video(tmp_path / "short.avi", [(None, 0.4)])
    opened: list[int] = []

    def opener():
        opened.append(1)
        return cv2.VideoCapture(str(video))  # at its end reads fail: the camera is "unplugged", then reopened

    settings = make_settings(tmp_path)
    station = station_factory(
        settings,
        source="usb",
        open_source_fn=lambda spec: CameraSource(
            opener, description="test camera", backoff_initial_s=0.2, backoff_max_s=0.2
        ),
    )
    states = station.camera_states
    station.qtbot.waitUntil(
        lambda: "ok" in states[states.index("lost") + 1 :] if "lost" in states else False, timeout=10000
    )
    assert len(opened) >= 2
    assert station.window.status.camera_state == "ok"
    assert station.window.preview.message == ""
    assert states[0] == "ok"


def test_code_read_on_and_off_asks_to_hold_still(tmp_path: Path, station_factory) -> None:
    flicker = [(PEOPLE[1].payload, 1 / 15), (None, 1 / 15)] * 14  # readable on every other frame only
    video = write_video(tmp_path / "flicker.avi", [(None, 0.3), *flicker, (None, 1.5)])
    station = station_factory(make_settings(tmp_path), source=str(video))
    panel = station.window.result_panel
    station.qtbot.waitUntil(lambda: panel.hint, timeout=6000)
    assert panel.reason.text() == "Giữ yên: mã đang bị mờ"
    assert station.shown_views == []  # never a steady read, so never a decision
    station.qtbot.waitUntil(lambda: not panel.hint, timeout=6000)  # the code went away: the hint goes too
