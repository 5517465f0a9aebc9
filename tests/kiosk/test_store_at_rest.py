"""The kiosk's data at rest (issue 11): private modes, lost committed events noticed, retention that holds.

Real SQLite files, a real `kiosk scan`, a real child process killed with SIGKILL and a real damaged WAL.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.config import default_db_path
from kiosk.events import Direction
from kiosk.retention import apply_retention
from kiosk.store import Store
from kiosk.store.integrity import LOST_EVENTS_KEY
from tests.support.events import visit_event
from tests.support.media import write_video
from tests.support.paths import REPO_ROOT


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    """The real `kiosk` command, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT
    )


def one_visitor_video(folder: Path) -> Path:
    return write_video(folder / "one.avi", [(None, 0.3), ("079195001234|Trần Thị Mai|01011995", 1.0)])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- modes ---------------------------------------------------------------------------------------------------


def test_a_new_store_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "events.sqlite3"
    before = mode(tmp_path)
    with Store.open(path) as store:
        store.record(visit_event("p1", datetime.now(UTC)))
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert [mode(f) for f in files if f.exists()] == [0o600] * len([f for f in files if f.exists()])
        assert len([f for f in files if f.exists()]) >= 2  # the database and its WAL at least
        assert mode(path.with_name(path.name + ".hwm")) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700  # folders the store created
    assert mode(tmp_path) == before  # a folder that was there is not the store's to change


def test_an_existing_install_is_tightened_on_open() -> None:
    path = default_db_path()  # under the tests' own XDG_DATA_HOME (tests/conftest.py)
    path.parent.mkdir(parents=True, exist_ok=True)
    with Store.open(path):
        pass
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)
    with Store.open(path) as store:
        store.record(visit_event("p2", datetime.now(UTC)))
        assert mode(path) == 0o600
        assert mode(path.parent) == 0o700


def test_the_database_kiosk_scan_creates_is_0600(tmp_path: Path) -> None:
    video = one_visitor_video(tmp_path)
    db = tmp_path / "scan" / "events.sqlite3"
    done = kiosk("scan", "--source", str(video), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert mode(db) == 0o600 and mode(db.parent) == 0o700
    assert all(mode(f) == 0o600 for f in db.parent.iterdir())


# --- lost committed events ------------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import os, signal, sys, uuid
    from datetime import UTC, datetime
    from kiosk.events import Direction, NewEvent
    from kiosk.store import Store
    store = Store.open(sys.argv[1])
    store._checkpointer.stop()  # keep every frame in the WAL, as a crash between checkpoints does
    for i in range(int(sys.argv[2])):
        store.record(NewEvent(direction=Direction.ENTRY, credential="cccd", person_key=f"p{i}",
                              id_number="079195001234", full_name="Trần Thị Mai", date_of_birth=None,
                              wall_time=datetime.now(UTC), monotonic_ns=i, source="scan", uuid=str(uuid.uuid4())))
    print("recorded", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def store_with_a_damaged_wal(folder: Path, events: int) -> Path:
    """A store whose writer recorded `events` and was SIGKILLed, then one bad byte in a late WAL frame: SQLite
    replays only the frames before it, silently dropping the later committed events."""
    db = folder / "events.sqlite3"
    with Store.open(db):
        pass  # the database file exists with its schema: the child's writes are all in the WAL
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(db), str(events)], capture_output=True, text=True, timeout=120
    )
    assert child.returncode == -signal.SIGKILL and "recorded" in child.stdout, child.stderr
    wal = db.with_name(db.name + "-wal")
    data = bytearray(wal.read_bytes())
    data[int(len(data) * 0.8)] ^= 0xFF
    wal.write_bytes(bytes(data))
    return db


def test_a_damaged_wal_that_drops_committed_events_is_noticed(tmp_path: Path) -> None:
    db = store_with_a_damaged_wal(tmp_path, 300)
    with Store.open(db) as store:
        found = store.count_events()
        assert 0 < found < 300  # the damage really lost committed events...
        lost = json.loads(store.get_state(LOST_EVENTS_KEY) or "{}")
        assert lost["expected"] == 300 and lost["found"] == found  # ...and the store says how many
    with Store.open(db) as store:  # reported once, and the store goes on
        assert json.loads(store.get_state(LOST_EVENTS_KEY) or "{}")["expected"] == 300
        store.record(visit_event("after", datetime.now(UTC)))


def test_an_intact_store_reports_no_loss(tmp_path: Path) -> None:
    db = tmp_path / "events.sqlite3"
    with Store.open(db) as store:
        for i in range(20):
            store.record(visit_event(f"p{i}", datetime.now(UTC)))
    with Store.open(db) as store:
        assert store.get_state(LOST_EVENTS_KEY) is None and store.count_events() == 20


# --- retention -------------------------------------------------------------------------------------------------


def test_retention_closes_entry_only_visits_and_purges_them(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with Store.open(tmp_path / "events.sqlite3") as store:
        old_entry = store.record(visit_event("entry-only", now - timedelta(days=30)))
        recent_entry = store.record(visit_event("recent", now - timedelta(days=2)))
        store.acknowledge(e.uuid for e in store.claim_pending(10))
        assert store.occupancy() == 2
        report = apply_retention(store, 21, now)
        assert (report.closed_visits, report.purged_events) == (1, 1)
        assert [e.uuid for e in store.events()] == [recent_entry.uuid]
        assert store.occupancy() == 1 and store.last_event(old_entry.person_key) is None


def test_retention_never_purges_an_unsynced_visit_but_closes_it(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with Store.open(tmp_path / "events.sqlite3") as store:
        store.record(visit_event("offline", now - timedelta(days=40)))
        report = apply_retention(store, 21, now)
        assert (report.closed_visits, report.purged_events) == (1, 0)
        assert store.count_events() == 1 and store.pending_count() == 1 and store.occupancy() == 0


def test_events_dated_in_the_future_age_from_their_acknowledgement(tmp_path: Path) -> None:
    """A clock that ran 100 days ahead: the event is kept while the period runs from its acknowledgement, then
    goes; the clock is moved (the `now` given), not the calendar."""
    real_now = datetime.now(UTC)
    with Store.open(tmp_path / "events.sqlite3") as store:
        ahead = store.record(visit_event("ahead", real_now + timedelta(days=100)))
        store.record(visit_event("ahead", real_now + timedelta(days=100, minutes=5), Direction.EXIT))
        store.acknowledge(e.uuid for e in store.claim_pending(10))
        assert apply_retention(store, 21, real_now + timedelta(days=20)).purged_events == 0
        assert ahead.uuid in {e.uuid for e in store.events()}
        assert apply_retention(store, 21, real_now + timedelta(days=22)).purged_events == 2
        assert store.count_events() == 0


# --- kiosk doctor and kiosk scan on bad days ----------------------------------------------------------------


def doctor(db: Path) -> subprocess.CompletedProcess[str]:
    return kiosk("doctor", "--db", str(db), "--probe-cameras", "0")


def test_doctor_fails_a_store_that_lost_committed_events(tmp_path: Path) -> None:
    db = store_with_a_damaged_wal(tmp_path, 300)
    done = doctor(db)
    assert done.returncode == 1
    assert "[FAIL] database integrity:" in done.stdout and "committed event(s) were lost" in done.stdout


def test_doctor_fails_a_damaged_database_file(tmp_path: Path) -> None:
    db = tmp_path / "events.sqlite3"
    with Store.open(db) as store:
        for i in range(300):
            store.record(visit_event(f"p{i}", datetime.now(UTC)))
    data = bytearray(db.read_bytes())
    page = 4096
    for offset in range(3 * page + 100, len(data) - page, 7 * page):  # scribble inside a few b-tree pages
        data[offset : offset + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))
    done = doctor(db)
    assert done.returncode == 1 and "[FAIL] database" in done.stdout, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_doctor_passes_a_sound_store(tmp_path: Path) -> None:
    db = tmp_path / "events.sqlite3"
    with Store.open(db) as store:
        store.record(visit_event("p", datetime.now(UTC)))
    assert "[ok] database integrity: quick_check ok" in doctor(db).stdout


def test_an_unusable_start_time_is_one_line_and_records_nothing(tmp_path: Path) -> None:
    video = one_visitor_video(tmp_path)
    db = tmp_path / "events.sqlite3"
    done = kiosk("scan", "--source", str(video), "--db", str(db), "--start-time", "9999-12-31T23:59:59.9+00:00")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--start-time" in done.stderr
    assert not db.exists()
