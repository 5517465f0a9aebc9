"""The station applies retention at start (and daily) and checks everyone out at the closing time, as promised by
`station.retention_days` and `station.closing_time` (issue 11: the station window used to never purge)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.events import Direction
from kiosk.store import Store
from tests.support.events import visit_event
from tests.support.media import write_video
from tests.support.station import make_settings, stations

station_factory = pytest.fixture(stations)


def test_the_station_purges_synced_events_past_the_period_at_start(tmp_path: Path, station_factory, qtbot) -> None:
    settings = make_settings(tmp_path, station={"retention_days": 21})
    now = datetime.now(UTC)
    with Store.open(settings.store.db_path) as store:
        store.record(visit_event("old", now - timedelta(days=30)))
        store.record(visit_event("old", now - timedelta(days=30, minutes=-5), Direction.EXIT))
        store.record(visit_event("entry-only", now - timedelta(days=25)))
        store.acknowledge(e.uuid for e in store.claim_pending(10))
        kept = store.record(visit_event("unsynced", now - timedelta(days=40)))  # never reached the server: kept
        recent = store.record(visit_event("recent", now - timedelta(days=1)))
    video = str(write_video(tmp_path / "empty.avi", [(None, 10.0)], fps=5))
    station = station_factory(settings, source=video)
    qtbot.waitUntil(lambda: station.store.count_events() == 2, timeout=10_000)
    assert {e.uuid for e in station.store.events()} == {kept.uuid, recent.uuid}


def test_the_station_checks_everyone_out_at_closing_time(tmp_path: Path, station_factory, qtbot) -> None:
    closing_utc = datetime.now(UTC) - timedelta(minutes=5)
    settings = make_settings(tmp_path, station={"closing_time": closing_utc.strftime("%H:%M"), "timezone": "UTC"})
    with Store.open(settings.store.db_path) as store:
        store.record(visit_event("inside", closing_utc - timedelta(hours=2)))
    video = str(write_video(tmp_path / "empty.avi", [(None, 10.0)], fps=5))
    station = station_factory(settings, source=video)
    qtbot.waitUntil(lambda: station.store.occupancy() == 0, timeout=10_000)
    last = station.store.last_event("inside")
    assert last is not None and last.direction is Direction.EXIT and last.source == "auto_checkout"
