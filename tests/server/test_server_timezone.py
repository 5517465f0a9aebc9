"""One server time zone (default Asia/Ho_Chi_Minh): a time without an offset in the CLI, the API and the
console means that zone; `--timezone` / QRCK_TIMEZONE changes it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.events import Direction
from server import admin
from server.auth import Principal
from server.cli_args import in_zone, parse_time_option
from server.db import open_database
from server.ingest import ingest
from sync import protocol
from tests.support.paths import REPO_ROOT
from tests.support.server_env import ServerEnv, make_event

VISIT = datetime(2021, 9, 1, 10, tzinfo=UTC)  # 17:00 in Ho Chi Minh City, for an hour


def _seed(db_url: str) -> None:
    engine = open_database(db_url)
    venue_id = admin.add_venue(engine, "Chợ")
    kiosk_id, _ = admin.add_kiosk(engine, venue_id)
    events = (
        make_event("079095000001", wall_time=VISIT),
        make_event("079095000001", Direction.EXIT, wall_time=VISIT + timedelta(hours=1)),
    )
    now = datetime.now(UTC)
    ingest(engine, protocol.Batch(kiosk_time=now, events=events), Principal("kiosk", venue_id, kiosk_id), now)
    engine.dispose()


def test_a_naive_time_means_the_server_zone() -> None:
    naive = parse_time_option("2021-09-01T17:00")
    assert naive.tzinfo is None
    assert in_zone(naive, "Asia/Ho_Chi_Minh") == datetime(2021, 9, 1, 10, tzinfo=UTC)
    assert in_zone(naive, "UTC") == datetime(2021, 9, 1, 17, tzinfo=UTC)
    assert in_zone(parse_time_option("2021-09-01T17:00+00:00"), "Asia/Ho_Chi_Minh").hour == 17  # an offset wins


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120
    )


@pytest.mark.parametrize("zone, found", [(None, True), ("Asia/Ho_Chi_Minh", True), ("UTC", False)])
def test_cli_trace_reads_naive_times_in_its_zone(tmp_path: Path, zone: str | None, found: bool) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    _seed(db)
    args = [
        "trace",
        "--db",
        db,
        "--id-number",
        "079095000001",
        "--from",
        "2021-09-01T16:30",
        "--to",
        "2021-09-01T18:30",
    ]
    done = _cli(*args, *(["--timezone", zone] if zone else []))
    assert done.returncode == 0, done.stderr
    assert bool(json.loads(done.stdout)["visits"]) is found


def test_cli_purge_before_a_naive_time_and_a_bad_zone(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    _seed(db)
    # 17:30 local is 10:30 UTC: the entry (10:00 UTC) goes, the exit (11:00 UTC) stays.
    done = _cli("purge", "--db", db, "--before", "2021-09-01T17:30")
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "1", done.stderr
    bad = _cli(
        "trace", "--db", db, "--id-number", "1", "--from", "2021-09-01", "--to", "2021-09-02", "--timezone", "Mars/Base"
    )
    assert bad.returncode == 2 and "not a time zone" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_the_api_reads_naive_times_in_the_server_zone(env: ServerEnv) -> None:
    from server.models import events

    env.push(
        [
            make_event("079095000001", wall_time=VISIT),
            make_event("079095000001", Direction.EXIT, wall_time=VISIT + timedelta(hours=1)),
        ]
    )
    with env.engine.connect() as conn:
        assert conn.execute(events.select()).first() is not None
    authority = admin.add_user(env.engine, "authority")
    query = {"id_number": "079095000001", "from": "2021-09-01T16:30:00", "to": "2021-09-01T18:30:00"}
    report = env.client.get("/api/v1/trace", params=query, headers=env.headers(authority)).json()
    assert len(report["visits"]) == 1 and report["from"] == "2021-09-01T09:30:00+00:00"
