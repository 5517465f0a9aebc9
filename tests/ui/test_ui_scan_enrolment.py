"""A new station enrols by being shown its enrolment QR (issue 14: no typing), against the real server; an
enrolled station treats such a QR as any code that is not a personal QR."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import load_settings, update_config_file
from sync.protocol_pull import enrollment_qr_payload
from tests.support.media import write_video
from tests.support.station import make_settings, stations, wait_for_views

station_factory = pytest.fixture(stations)


def enrolment_video(tmp_path: Path, text: str) -> str:
    return str(write_video(tmp_path / "enrol.avi", [(None, 0.5), (text, 2.0), (None, 20.0)], fps=10))


def test_a_new_station_enrols_from_the_qr_it_is_shown(tmp_path: Path, station_factory, live_server, qtbot) -> None:
    server = live_server()
    code = server.add_kiosk(server.add_venue("Trường THCS Lê Lợi"))
    settings = make_settings(tmp_path, station={"language": "en"})
    update_config_file(settings.path, "store", {"db_path": settings.store.db_path})
    update_config_file(settings.path, "station", {"language": "en"})
    station = station_factory(settings, source=enrolment_video(tmp_path, enrollment_qr_payload(code, server.url)))
    qtbot.waitUntil(lambda: any(view.outcome == "entry" for view in station.shown_views), timeout=20_000)
    titles = [view.title for view in station.shown_views]
    assert titles[0] == "ENROLLING THIS KIOSK" and "KIOSK ENROLLED" in titles
    enrolled = load_settings(settings.path)
    assert enrolled.server.url == server.url and len(enrolled.server.token) > 20
    assert station.store.count_events() == 0  # an enrolment is no visit


def test_an_enrolled_station_does_not_follow_an_enrolment_qr(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, server={"url": "http://127.0.0.1:9", "token": "already-enrolled"})
    text = enrollment_qr_payload("ABCD-EFGH-JKLM", "http://127.0.0.1:1")
    station = station_factory(settings, source=enrolment_video(tmp_path, text))
    views = wait_for_views(station.qtbot, station, 1)
    assert views[0].outcome == "rejected" and views[0].title != "ENROLLING THIS KIOSK"
