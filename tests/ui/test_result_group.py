"""Several people at once at the station: one frame with a parent's and the children's cards makes one record
each, and the result panel shows them together (offscreen Qt, a real video and a real SQLite file)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.demo import demo_people
from kiosk.privacy import mask_name
from kiosk.store import Store
from tests.support.media import qr_image
from tests.support.station import make_settings, stations, wait_for_views

station_factory = pytest.fixture(stations)

PEOPLE = demo_people(3, seed=31)


def _cards_video(path: Path, payloads: list[str], fps: float = 15.0) -> Path:
    """Half a second of empty scene, two seconds of three cards side by side, half a second empty."""
    empty = np.full((480, 640, 3), 90, np.uint8)
    cards = empty.copy()
    for k, payload in enumerate(payloads):
        qr = cv2.cvtColor(qr_image(payload, 3), cv2.COLOR_GRAY2BGR)
        x, y = 8 + k * 210, 120
        cards[y : y + qr.shape[0], x : x + qr.shape[1]] = qr[: 480 - y, : 640 - x]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    for frame, seconds in ((empty, 0.5), (cards, 2.0), (empty, 0.5)):
        for _ in range(int(seconds * fps)):
            writer.write(frame)
    writer.release()
    return path


def test_three_cards_in_one_frame_are_three_records_shown_together(tmp_path: Path, station_factory) -> None:
    video = _cards_video(tmp_path / "cards.avi", [p.payload for p in PEOPLE])
    settings = make_settings(tmp_path, station={"capacity": 100})
    station = station_factory(settings, source=str(video))
    views = wait_for_views(station.qtbot, station, 3)
    assert sorted(v.outcome for v in views) == ["entry", "entry", "entry"]
    panel = station.window.result_panel
    assert len(panel.group) == 3
    shown = panel.name.text().splitlines()
    assert len(shown) == 3
    for person in PEOPLE:
        assert any(mask_name(person.full_name) in line for line in shown), shown
        assert person.full_name not in panel.name.text()  # masked, as always
    assert panel.title.text().endswith("(3)")
    with Store.open(settings.store.db_path) as store:
        assert store.count_events() == 3 and store.occupancy() == 3


def test_decisions_seconds_apart_are_shown_one_at_a_time(qtbot) -> None:
    from ui.widgets.presenter import ResultView
    from ui.widgets.result_panel import GROUP_WINDOW_S, ResultPanel

    panel = ResultPanel()
    qtbot.addWidget(panel)

    def view(outcome: str, name: str) -> ResultView:
        return ResultView(outcome, outcome.upper(), "", name, "", "08:00:00", "", "#000", "#fff", "qr.svg", "", False)

    panel.show_result(view("entry", "A"))
    panel.show_result(view("rejected", "B"))
    assert len(panel.group) == 2 and panel.title.text() == "REJECTED (2)"  # the worst outcome colours the panel
    panel._shown_at -= GROUP_WINDOW_S + 0.1  # as if the next one came later
    panel.show_result(view("exit", "C"))
    assert len(panel.group) == 1 and panel.title.text() == "EXIT" and panel.name.text() == "C"
