"""`kiosk-server backup` / `restore` round trips on a real SQLite file and a real PostgreSQL database (pg_dump -Fc,
pg_restore), through the CLI as cron would run it."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from server import admin
from server.auth import Principal
from server.db import open_database
from server.ingest import ingest
from sync.protocol import Batch
from tests.support.events import visit_event
from tests.support.postgres import PgCluster, run_server_cli


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Two empty databases of one kind: the one backed up, and a fresh one to restore into. PostgreSQL gets
    whole databases (pg_dump takes a database, not the per-test schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.db'}", f"sqlite:///{tmp_path / 'elsewhere.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(), cluster.create_database()


def _store(url: str, days_ago: list[int]) -> set[str]:
    engine = open_database(url)
    venue = admin.add_venue(engine, "Nhà thờ Đức Bà")
    kiosk_id, _ = admin.add_kiosk(engine, venue)
    now = datetime.now(UTC)
    batch = Batch(kiosk_time=now, events=tuple(visit_event(f"p{n}", now - timedelta(days=n)) for n in days_ago))
    ingest(engine, batch, Principal("kiosk", venue, kiosk_id), now)
    engine.dispose()
    return {event.uuid for event in batch.events}


def _uuids(url: str) -> set[str]:
    engine = open_database(url)
    with engine.connect() as conn:
        found = set(conn.execute(text("SELECT uuid FROM events")).scalars())
    engine.dispose()
    return found


def test_backup_and_restore_round_trip(database: tuple[str, str], tmp_path: Path) -> None:
    url, elsewhere = database
    kept = _store(url, [1, 2, 3])
    out = tmp_path / "qrc.backup"
    assert "backup written" in run_server_cli("backup", "--db", url, "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, "a backup holds personal data"
    later = _store(url, [0])
    assert _uuids(url) == kept | later

    with pytest.raises(RuntimeError, match="already holds events: add --replace"):
        run_server_cli("restore", "--db", url, "--in", str(out))
    assert _uuids(url) == kept | later, "a refused restore changes nothing"
    run_server_cli("restore", "--db", url, "--in", str(out), "--replace")
    assert _uuids(url) == kept, "back to what the backup held"

    run_server_cli("restore", "--db", elsewhere, "--in", str(out))  # an empty database needs no --replace
    assert _uuids(elsewhere) == kept
    _store(elsewhere, [0])  # the restored database takes new events (partitions and uuids came back too)
    assert len(_uuids(elsewhere)) == len(kept) + 1


def test_restore_refuses_a_file_that_is_not_a_backup(database: tuple[str, str], tmp_path: Path) -> None:
    url, _ = database
    _store(url, [0])
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup")
    with pytest.raises(RuntimeError, match="is not a") as refused:
        run_server_cli("restore", "--db", url, "--in", str(bogus))
    assert "Traceback" not in str(refused.value)
    with pytest.raises(RuntimeError, match="does not exist"):
        run_server_cli("backup", "--db", url, "--out", str(tmp_path / "missing" / "b.backup"))
    with pytest.raises(RuntimeError, match="no SQLite database at"):
        run_server_cli("backup", "--db", f"sqlite:///{tmp_path / 'nowhere.db'}", "--out", str(tmp_path / "b"))
