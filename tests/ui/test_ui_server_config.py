"""The venue's COVID safety level on the idle screen, the server's configuration reaching a RUNNING station (a real
sync worker pulling from a real HTTP server on 127.0.0.1 into the real SQLite store), and the daily health update
mode from the config file. Offscreen, real pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

import ui.station.status
from kiosk.demo import demo_people
from kiosk.store import Store
from sync import protocol
from sync.worker import SyncWorker
from tests.support.media import write_video
from tests.support.station import make_settings, stations, wait_for_views
from tests.support.sync_servers import TOKEN, ImitationServer

station_factory = pytest.fixture(stations)

PERSON = demo_people(1, seed=23)[0]


def idle_video(tmp_path: Path) -> str:
    return str(write_video(tmp_path / "empty.avi", [(None, 30.0)], fps=5))


def plain(text: str) -> str:
    return text.replace("\u00a0", " ")  # the chip keeps "assessed <date>" together with no-break spaces


def chip_fits(label) -> bool:  # type: ignore[no-untyped-def]
    """The wrapped text of a label has the height it needs (nothing cut off at the bottom)."""
    return label.isVisible() and label.height() >= label.heightForWidth(label.width())


def test_idle_screen_shows_the_safety_level_in_both_languages(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, station={"safety_level": "yellow", "safety_assessed_on": "2026-11-20"})
    station = station_factory(settings, source=idle_video(tmp_path))
    chip = station.window.result_panel.safety
    station.qtbot.waitUntil(lambda: chip_fits(chip), timeout=3000)  # visible, and not cut off at 1024×600
    assert plain(chip.text()) == "Mức an toàn COVID: Vàng · đánh giá 20/11/2026"
    assert "#f5c518" in chip.styleSheet()  # the yellow chip, dark text on it
    station.toggle_language()
    assert plain(chip.text()) == "COVID safety level: Yellow · assessed 20/11/2026"
    station.submit_payload(PERSON.payload.encode("utf-8"))
    wait_for_views(station.qtbot, station, 1)
    assert not chip.isVisible()  # the result has the whole panel
    station.back_to_idle()
    assert chip.isVisible() and "Yellow" in chip.text()


def test_no_safety_level_when_not_assessed_and_fits_at_1080p(tmp_path: Path, station_factory) -> None:
    station = station_factory(make_settings(tmp_path), source=idle_video(tmp_path))
    panel = station.window.result_panel
    assert panel.safety.text() == "" and not panel.safety.isVisible()
    panel.set_safety_level("red", "not a date")  # a bad date: the level alone, never a made-up date
    station.window.resize(1920, 1080)
    station.qtbot.waitUntil(lambda: panel.safety.width() > 500 and chip_fits(panel.safety), timeout=3000)
    assert panel.safety.text() == "Mức an toàn COVID: Đỏ"


def test_a_pulled_config_change_reaches_the_running_station(
    tmp_path: Path, station_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui.station.status, "STATUS_INTERVAL_MS", 100)  # the GUI looks at the sync status often
    settings = make_settings(tmp_path, station={"mode": "entry", "venue_name": "Local name", "capacity": 0})
    with ImitationServer(tmp_path / "server.sqlite3") as server:
        server.documents[protocol.CONFIG_PATH] = {
            "venue_id": "1",
            "venue_name": "Chợ Bến Thành",
            "kiosk_id": "7",
            "mode": "entry",
            "capacity": 50,
            "cooldown_seconds": 0,
            "safety": {"level": "green", "assessed_on": "2026-11-20"},
        }
        station = station_factory(settings, source=idle_video(tmp_path), start=False)
        worker = SyncWorker(
            lambda: Store.open(settings.store.db_path),
            server.url,
            TOKEN,
            interval_s=0.2,
            pull_interval_s=0.2,
            backoff_base_s=0.05,
            backoff_cap_s=0.2,
        )
        station.sync_worker = worker
        station.start()
        worker.start()
        try:
            window = station.window
            station.qtbot.waitUntil(lambda: window.venue.text() == "Chợ Bến Thành", timeout=10000)
            assert "Xanh" in window.result_panel.safety.text()
            station.submit_payload(PERSON.payload.encode("utf-8"))
            assert wait_for_views(station.qtbot, station, 1)[0].outcome == "entry"
            assert window.result_panel.occupancy.text().endswith("1 / 50")

            # The venue manager switches this kiosk to the exit door and reassesses the venue.
            server.documents[protocol.CONFIG_PATH] = {
                **server.documents[protocol.CONFIG_PATH],
                "venue_name": "Chợ Bình Tây",
                "mode": "exit",
                "capacity": 80,
                "safety": {"level": "orange", "assessed_on": "2026-11-24"},
            }
            station.qtbot.waitUntil(lambda: window.venue.text() == "Chợ Bình Tây", timeout=10000)
            assert station.settings.station.mode == "exit"
            assert station.base_settings.station.mode == "entry"  # the config file's value stays the base
            station.submit_payload(PERSON.payload.encode("utf-8"))
            assert wait_for_views(station.qtbot, station, 2)[1].outcome == "exit"
            assert window.result_panel.occupancy.text().endswith("0 / 80")
            station.back_to_idle()
            assert plain(window.result_panel.safety.text()) == "Mức an toàn COVID: Cam · đánh giá 24/11/2026"
        finally:
            worker.stop()


def test_settings_saved_locally_keep_the_servers_values(tmp_path: Path, station_factory) -> None:
    """The settings page writes the config file; the pulled configuration still goes over it."""
    settings = make_settings(tmp_path, station={"mode": "entry", "venue_name": "Local name"})
    station = station_factory(settings, source=idle_video(tmp_path))
    with Store.open(settings.store.db_path) as store:  # what sync.pull caches (a validated server document)
        store.set_state(
            "pull.config.body",
            '{"venue_id":"1","venue_name":"Chợ Bến Thành","kiosk_id":"7","mode":"exit","cooldown_seconds":0}',
        )
    assert station.reload_server_config()
    assert station.window.venue.text() == "Chợ Bến Thành" and station.settings.station.mode == "exit"
    assert not station.reload_server_config()  # nothing new: nothing re-applied
    station.save_settings({"ui": {"result_hold_seconds": 5.0}})
    assert station.settings.ui.result_hold_seconds == 5.0
    assert station.window.venue.text() == "Chợ Bến Thành" and station.settings.station.mode == "exit"


def test_daily_health_update_from_the_config_asks_every_scan(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, ui={"daily_health_update": True})
    station = station_factory(settings, source=idle_video(tmp_path))
    window = station.window
    assert window.guard_panel.health_mode.isChecked() and station.health_mode
    station.submit_payload(PERSON.payload.encode("utf-8"))
    station.qtbot.waitUntil(lambda: window.current_page() is window.questionnaire, timeout=5000)
    with Store.open(settings.store.db_path) as store:
        assert store.occupancy() == 0  # nothing recorded before the answers
    window.guard_panel.health_mode.setChecked(False)  # the guard can still switch it off at run time
    assert not station.health_mode


def test_daily_health_update_from_the_command_line_survives_a_settings_save(tmp_path: Path, station_factory) -> None:
    import argparse

    from ui.cli import register_commands

    parser = argparse.ArgumentParser()
    register_commands(parser.add_subparsers())
    assert parser.parse_args(["station", "--daily-health-update"]).daily_health_update
    assert not parser.parse_args(["station"]).daily_health_update
    station = station_factory(make_settings(tmp_path), source=idle_video(tmp_path))
    assert not station.health_mode
    station.command_line = {"ui": {"daily_health_update": True}}  # what `kiosk station --daily-health-update` sets
    station.save_settings({"station": {"capacity": 30}})  # the file says nothing of it: the option stays in force
    assert station.settings.station.capacity == 30
    assert station.health_mode and station.window.guard_panel.health_mode.isChecked()
