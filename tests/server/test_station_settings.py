"""Station settings kept on the server reach a real kiosk: `kiosk sync --once` against a live server, then the
kiosk's own settings (its store's pulled configuration over its config file) are the venue's."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.config import Settings, load_settings
from kiosk.store import Store
from server import admin
from server.db import open_database
from sync.station_hooks import with_server_config
from tests.support.postgres import LiveServer
from tests.support.sync_servers import ROOT, _env


def _sync_once(config: Path, db: Path) -> None:
    command = [sys.executable, "-m", "kiosk.cli", "sync", "--once", "--config", str(config), "--db", str(db)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT, env=_env())
    assert done.returncode == 0, done.stderr


def kiosk_settings(config: Path, db: Path) -> Settings:
    with Store.open(db) as store:
        return with_server_config(load_settings(config), store)


def test_a_settings_change_reaches_the_kiosk_at_its_next_sync(
    tmp_path: Path, server_db_url: str, live_server: Callable[..., LiveServer]
) -> None:
    server = live_server(server_db_url)
    venue = server.add_venue("Rạp chiếu phim")
    config, db = tmp_path / "kiosk.toml", tmp_path / "kiosk.sqlite3"
    config.write_text(
        f'[server]\nurl = "{server.url}"\ntoken = "{server.enroll(venue)}"\n[station]\nretention_days = 14\n'
    )
    _sync_once(config, db)
    before = kiosk_settings(config, db).station
    assert (before.mode, before.capacity, before.closing_time) == ("auto", 0, "")

    admin.update_station_config(
        open_database(server_db_url),
        venue,
        {
            "mode": "entry",
            "capacity": 120,
            "capacity_action": "warn",
            "questionnaire_policy": "always",
            "closing_time": "22:30",
            "accepted_credentials": ["cccd", "personal"],
        },
    )
    assert kiosk_settings(config, db).station.mode == "auto"  # nothing changes before the kiosk syncs
    _sync_once(config, db)
    after = kiosk_settings(config, db).station
    assert (after.mode, after.capacity, after.capacity_action, after.questionnaire) == ("entry", 120, "warn", "always")
    assert (after.closing_time, after.accepted_credentials) == ("22:30", ("cccd", "personal"))
    assert after.retention_days == 14  # the kiosk's own


@pytest.mark.parametrize(
    "changes",
    [
        {"closing_time": "25:00"},
        {"closing_time": "9:30"},
        {"capacity_action": "shout"},
        {"accepted_credentials": []},
        {"accepted_credentials": ["library-card"]},
        {"capacity": 0},
        {"dcc_required": "yes"},
        {"retention_days": 0},
    ],
)
def test_bad_settings_are_refused_with_their_name(sqlite_url: str, changes: dict[str, object]) -> None:
    engine = open_database(sqlite_url)
    venue = admin.add_venue(engine, "V")
    with pytest.raises(admin.Invalid, match=next(iter(changes))):
        admin.update_station_config(engine, venue, changes)
