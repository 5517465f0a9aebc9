"""kiosk.store on real SQLite files: round trips, outbox state machine, purge, migrations, failures, threads,
and a SIGKILLed writer."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import inspect

from kiosk.events import Direction, NewEvent, StoredEvent
from kiosk.store import Store, StoreError
from kiosk.store import store as store_module
from kiosk.store.engine import make_engine
from kiosk.store.migrations import LATEST_VERSION, migrate
from kiosk.store.schema import metadata
from tests.support.seed import bulk_load

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
VN = timezone(timedelta(hours=7))


def make_event(
    person: str = "p1",
    direction: Direction = Direction.ENTRY,
    at: datetime = T0,
    name: str = "Lê Thị Hạnh",
    id_number: str = "038195001234",
    **extra: object,
) -> NewEvent:
    return NewEvent(
        direction=direction,
        credential="cccd",
        person_key=person,
        id_number=id_number,
        full_name=name,
        date_of_birth=date(1995, 3, 12),
        wall_time=at,
        monotonic_ns=int(at.timestamp() * 1e9),
        **extra,  # type: ignore[arg-type]
    )


def same_event(stored: StoredEvent, new: NewEvent) -> bool:
    fields = (
        "direction",
        "credential",
        "person_key",
        "id_number",
        "full_name",
        "date_of_birth",
        "monotonic_ns",
        "source",
        "flags",
        "details",
        "uuid",
    )
    return all(getattr(stored, f) == getattr(new, f) for f in fields) and stored.wall_time == new.wall_time


# --- basics ------------------------------------------------------------------------------------------------


def test_open_creates_parent_dir_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "kiosk.db"
    with Store.open(path) as store:
        assert path.is_file()
        with store._writer.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() > 0
            assert conn.exec_driver_sql("PRAGMA user_version").scalar_one() == LATEST_VERSION


def test_round_trip_vietnamese(store: Store) -> None:
    new = make_event(
        name="Nguyễn Thị Ánh Tuyết",
        at=datetime(2026, 11, 1, 15, 30, 1, 123456, tzinfo=VN),
        flags=("id_mismatch", "symptoms"),
        details={"câu hỏi": "Có", "n": [1, 2]},
    )
    stored = store.record(new)
    assert stored.seq >= 1 and stored.outbox_state == "pending"
    assert same_event(stored, new)
    assert stored.wall_time.utcoffset() == timedelta(0)
    assert stored.wall_time == datetime(2026, 11, 1, 8, 30, 1, 123456, tzinfo=UTC)
    for read in (store.last_event("p1"), *store.events(), *store.inside()):
        assert read == stored
        assert same_event(read, new)


def test_record_assigns_increasing_seq_and_rejects_duplicates(store: Store) -> None:
    first = store.record(make_event("a"))
    second = store.record(make_event("b"))
    assert second.seq > first.seq
    with pytest.raises(StoreError, match="already recorded"):
        store.record(first)
    assert store.count_events() == 2


def test_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="timezone-aware"):
        store.record(make_event(at=datetime(2026, 11, 1, 8, 0)))
    with pytest.raises(StoreError, match="timezone-aware"):
        store.today_counts(datetime(2026, 11, 1))
    assert store.count_events() == 0


def test_events_are_immutable(store: Store) -> None:
    store.record(make_event())
    with store._writer.connect() as conn, pytest.raises(Exception, match="immutable"):
        conn.exec_driver_sql("UPDATE events SET full_name = 'x'")


def test_closed_store_raises(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "k.db")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.record(make_event())
    with pytest.raises(StoreError, match="closed"):
        store.occupancy()


# --- presence, queries -------------------------------------------------------------------------------------


def test_occupancy_inside_last_event(store: Store) -> None:
    store.record(make_event("a", at=T0 + timedelta(minutes=5)))
    store.record(make_event("b", at=T0 + timedelta(minutes=1)))
    store.record(make_event("c", at=T0 + timedelta(minutes=2)))
    store.record(make_event("c", Direction.EXIT, at=T0 + timedelta(minutes=3)))
    store.record(make_event("d", Direction.EXIT, at=T0 + timedelta(minutes=4)))  # exit without entry
    assert store.occupancy() == 2
    inside = store.inside()
    assert [e.person_key for e in inside] == ["b", "a"]  # oldest entry first
    assert all(e.direction is Direction.ENTRY for e in inside)
    last_c = store.last_event("c")
    assert last_c is not None and last_c.direction is Direction.EXIT
    assert store.last_event("nobody") is None
    store.record(make_event("c", at=T0 + timedelta(minutes=6)))
    assert store.occupancy() == 3
    assert [e.person_key for e in store.inside()] == ["b", "a", "c"]


def test_events_window_and_paging(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "_EVENTS_PAGE", 3)  # force many pages, with ties on wall_time
    times = [T0 + timedelta(minutes=m) for m in (5, 0, 1, 1, 1, 2, 3, 3, 4, 9)]
    recorded = [store.record(make_event(f"p{i}", at=t)) for i, t in enumerate(times)]
    everything = list(store.events())
    assert [e.uuid for e in everything] == [e.uuid for e in sorted(recorded, key=lambda e: (e.wall_time, e.seq))]
    window = list(store.events(T0 + timedelta(minutes=1), T0 + timedelta(minutes=4)))
    assert [e.wall_time for e in window] == sorted(
        t for t in times if T0 + timedelta(minutes=1) <= t < T0 + timedelta(minutes=4)
    )
    assert len(window) == 6
    assert store.count_events() == 10


def test_today_counts(store: Store) -> None:
    store.record(make_event("a", at=T0 - timedelta(days=1)))
    store.record(make_event("a", Direction.EXIT, at=T0 - timedelta(hours=20)))
    store.record(make_event("a", at=T0))
    store.record(make_event("b", at=T0 + timedelta(hours=1)))
    store.record(make_event("b", Direction.EXIT, at=T0 + timedelta(hours=2)))
    assert store.today_counts(T0) == {"entries": 2, "exits": 1}
    assert store.today_counts(T0 + timedelta(days=1)) == {"entries": 0, "exits": 0}


def test_search_names_and_id_suffix(store: Store) -> None:
    store.record(make_event("a", name="Nguyễn Văn An", id_number="001090000111", at=T0))
    store.record(make_event("b", name="Trần Đức Bình", id_number="079090000222", at=T0 + timedelta(minutes=1)))
    store.record(
        make_event("b", Direction.EXIT, name="Trần Đức Bình", id_number="079090000222", at=T0 + timedelta(minutes=2))
    )
    store.record(make_event("c", name="NGUYEN THI CUC", id_number="048190000333", at=T0 + timedelta(minutes=3)))

    def keys(text: str) -> list[str]:
        return [e.person_key for e in store.search(text)]

    assert keys("nguyen") == ["c", "a"]  # most recent first, diacritics and case ignored
    assert keys("NGUYỄN") == ["c", "a"]
    assert keys("duc") == ["b"] and keys("Đức") == ["b"]
    hits = store.search("binh")
    assert len(hits) == 1 and hits[0].direction is Direction.EXIT  # the latest event per person
    assert keys("0222") == ["b"]  # ID suffix
    assert keys("0790") == []  # not a suffix, not in a name
    assert keys("%") == [] and keys("_") == []  # LIKE wildcards are literal
    assert keys("  ") == []
    assert len(store.search("n", limit=1)) == 1


# --- outbox ------------------------------------------------------------------------------------------------


def test_outbox_state_machine(store: Store) -> None:
    recorded = [store.record(make_event(f"p{i}", at=T0 + timedelta(seconds=i))) for i in range(5)]
    assert store.pending_count() == 5
    assert store.oldest_pending_time() == T0
    batch = store.claim_pending(3)
    assert [e.uuid for e in batch] == [e.uuid for e in recorded[:3]]
    assert all(e.outbox_state == "sent" for e in batch)
    assert store.outbox_counts() == {"pending": 2, "sent": 3, "acknowledged": 0}
    assert store.pending_count() == 5  # sent is not yet acknowledged
    assert store.acknowledge([batch[0].uuid, batch[1].uuid, "no-such-uuid"]) == 2
    assert store.acknowledge([batch[0].uuid]) == 0  # idempotent
    assert store.release([batch[2].uuid]) == 1
    assert store.release([batch[0].uuid]) == 0  # acknowledged stays acknowledged
    assert store.outbox_counts() == {"pending": 3, "sent": 0, "acknowledged": 2}
    assert store.oldest_pending_time() == T0 + timedelta(seconds=2)
    again = store.claim_pending(10)
    assert [e.uuid for e in again] == [e.uuid for e in recorded[2:]]
    assert store.claim_pending(10) == []
    assert store.acknowledge(e.uuid for e in again) == 3
    assert store.pending_count() == 0 and store.oldest_pending_time() is None
    assert store.last_event("p0").outbox_state == "acknowledged"  # type: ignore[union-attr]


def test_outbox_crash_recovery(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    with Store.open(path) as store:
        recorded = [store.record(make_event(f"p{i}")) for i in range(4)]
        claimed = store.claim_pending(3)
        assert len(claimed) == 3
        # "crash": close without acknowledging
    with Store.open(path) as store:
        assert store.outbox_counts() == {"pending": 1, "sent": 3, "acknowledged": 0}
        assert [e.uuid for e in store.claim_pending(10)] == [recorded[3].uuid]
        assert store.release_unacknowledged() == 4
        resent = store.claim_pending(10)
        assert [e.uuid for e in resent] == [e.uuid for e in recorded]
        with store._reader.connect() as conn:
            attempts = dict(conn.exec_driver_sql("SELECT seq, attempts FROM outbox").all())
        assert [attempts[e.seq] for e in recorded] == [2, 2, 2, 2]  # the fourth was claimed once before the release
        assert store.acknowledge(e.uuid for e in resent) == 4
        assert store.pending_count() == 0


# --- purge -------------------------------------------------------------------------------------------------


def test_purge_never_deletes_unsynced_nor_people_inside(store: Store) -> None:
    old = T0 - timedelta(days=30)
    acked_exit = [store.record(make_event("gone", at=old)), store.record(make_event("gone", Direction.EXIT, at=old))]
    still_inside = store.record(make_event("inside", at=old))
    to_send = store.record(make_event("pending", at=old))
    to_send2 = store.record(make_event("sent", at=old))
    recent = store.record(make_event("recent", at=T0))
    store.claim_pending(100)
    store.acknowledge([*(e.uuid for e in acked_exit), still_inside.uuid, recent.uuid])
    store.release([to_send.uuid])  # one pending, one sent: neither acknowledged

    assert store.purge(T0 - timedelta(days=21)) == 2
    remaining = {e.uuid for e in store.events()}
    assert remaining == {still_inside.uuid, to_send.uuid, to_send2.uuid, recent.uuid}
    assert store.last_event("gone") is None  # outside, now unknown
    assert store.occupancy() == 4  # inside, pending, sent, recent: all entries
    assert still_inside.uuid in {e.uuid for e in store.inside()}
    assert store.outbox_counts() == {"pending": 1, "sent": 1, "acknowledged": 2}  # outbox rows went with events
    assert store.purge(T0 + timedelta(days=1)) == 0


def test_purge_in_chunks(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "_PURGE_CHUNK", 4)
    for i in range(10):
        store.record(make_event(f"p{i}", at=T0))
        store.record(make_event(f"p{i}", Direction.EXIT, at=T0 + timedelta(minutes=1)))
    store.acknowledge(e.uuid for e in store.claim_pending(100))
    assert store.purge(T0 + timedelta(days=1)) == 20
    assert store.count_events() == 0 and store.pending_count() == 0 and store.occupancy() == 0


# --- schema versions ---------------------------------------------------------------------------------------


def test_migration_from_v1_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = make_engine(path, writer=True)
    with engine.begin() as conn:
        migrate(conn, target=1)
        rows = [
            (1, "u1", "entry", "a", "Phạm Minh Châu", 1000),
            (2, "u2", "entry", "b", "Võ Thị Sáu", 2000),
            (3, "u3", "exit", "a", "Phạm Minh Châu", 3000),
            (4, "u4", "entry", "c", "Đặng Văn Lâm", 4000),
        ]
        for seq, uuid, direction, person, name, wall in rows:
            conn.exec_driver_sql(
                "INSERT INTO events (seq, uuid, direction, credential, person_key, id_number, full_name, wall_time_us,"
                " monotonic_ns, source) VALUES (?, ?, ?, 'cccd', ?, '0001', ?, ?, 0, 'scan')",
                (seq, uuid, direction, person, name, wall),
            )
            conn.exec_driver_sql("INSERT INTO outbox (seq, state, updated_at_us) VALUES (?, 'pending', 0)", (seq,))
        assert conn.exec_driver_sql("PRAGMA user_version").scalar_one() == 1
    engine.dispose()

    with Store.open(path) as store:
        with store._reader.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA user_version").scalar_one() == LATEST_VERSION
        assert store.occupancy() == 2
        assert [e.uuid for e in store.inside()] == ["u2", "u4"]
        assert store.last_event("a").uuid == "u3"  # type: ignore[union-attr]
        assert [e.uuid for e in store.search("dang van")] == ["u4"]
        assert store.pending_count() == 4
        assert store.record(make_event("a")).seq == 5


def test_schema_module_matches_migrations(store: Store) -> None:
    inspector = inspect(store._reader)
    for table in metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.c.keys()), table.name


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    Store.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(StoreError) as info:
        Store.open(path)
    message = str(info.value)
    assert "newer" in message and str(path) in message and "\n" not in message


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not a QR Checkpoint store"):
        Store.open(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 1  # left untouched


# --- failures ----------------------------------------------------------------------------------------------


def assert_one_line_naming(exc: pytest.ExceptionInfo[StoreError], path: Path) -> None:
    message = str(exc.value)
    assert str(path) in message and "\n" not in message and "Traceback" not in message


def test_path_under_a_file_fails_cleanly(tmp_path: Path) -> None:
    # Works even for root: a regular file cannot contain entries (ENOTDIR).
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    path = blocker / "sub" / "kiosk.db"
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert_one_line_naming(info, path)


def test_sysfs_path_fails_cleanly() -> None:
    # sysfs refuses to create files, even for root.
    path = Path("/sys/kernel/qrc-test.db")
    if not Path("/sys/kernel").is_dir():
        pytest.skip("no sysfs")
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert_one_line_naming(info, path)


def test_directory_as_path_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="folder") as info:
        Store.open(tmp_path)
    assert_one_line_naming(info, tmp_path)


def _chattr(flag: str, target: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(target)], capture_output=True).returncode == 0


def test_immutable_directory_fails_cleanly(tmp_path: Path) -> None:
    # chmod does not stop root; the immutable attribute does (needs CAP_LINUX_IMMUTABLE and ext4/xfs/tmpfs).
    folder = tmp_path / "ro"
    folder.mkdir()
    if not _chattr("+i", folder):
        pytest.skip("chattr +i not available here")
    try:
        with pytest.raises(StoreError) as info:
            Store.open(folder / "kiosk.db")
        assert_one_line_naming(info, folder / "kiosk.db")
    finally:
        _chattr("-i", folder)


def test_immutable_database_file_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    Store.open(path).close()
    for leftover in (tmp_path / "k.db-wal", tmp_path / "k.db-shm"):
        leftover.unlink(missing_ok=True)
    if not _chattr("+i", path):
        pytest.skip("chattr +i not available here")
    try:
        with pytest.raises(StoreError) as info:
            Store.open(path)
        assert_one_line_naming(info, path)
    finally:
        _chattr("-i", path)


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4080])
def test_corrupt_file_fails_cleanly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "k.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert_one_line_naming(info, path)


def test_disk_full_writes_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "k.db")
    try:
        store.record(make_event("before"))
        # Simulate a full disk with SQLite's own page limit: a real SQLITE_FULL from inside the transaction.
        store._writer.dispose()
        sa_event.listen(store._writer, "connect", lambda conn, _rec: conn.execute("PRAGMA max_page_count = 1"))
        big = make_event("victim", details={"blob": "x" * 200_000})
        with pytest.raises(StoreError, match="full") as info:
            store.record(big)
        assert "\n" not in str(info.value)
        assert store.count_events() == 1 and store.pending_count() == 1
        assert store.last_event("victim") is None and store.occupancy() == 1
    finally:
        store.close()
    with Store.open(tmp_path / "k.db") as reopened:  # and the file is fine afterwards
        assert reopened.count_events() == 1
        reopened.record(make_event("after"))
        assert reopened.count_events() == 2


def test_real_full_filesystem(tmp_path: Path) -> None:
    # A tiny tmpfs: needs mount privileges (root in a VM); skipped elsewhere.
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if shutil.which("mount") is None or (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount_point)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("cannot mount a tmpfs here")
    try:
        with Store.open(mount_point / "k.db") as store:
            recorded = 0
            with pytest.raises(StoreError) as info:
                for i in range(10_000):
                    store.record(make_event(f"p{i}", details={"pad": "x" * 2000}))
                    recorded += 1
            assert "\n" not in str(info.value)
            assert store.count_events() == recorded == store.pending_count()
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


# --- threads and crashes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shared", [True, False], ids=["one-store", "store-per-thread"])
def test_writer_and_sync_threads_concurrently(tmp_path: Path, shared: bool) -> None:
    # One Store shared by the threads (its lock serialises writes), or one Store per thread (then SQLite's
    # BEGIN IMMEDIATE + busy timeout do): either way no "database is locked" and nothing lost.
    store = Store.open(tmp_path / "k.db")
    sync_store = store if shared else Store.open(tmp_path / "k.db")
    errors: list[BaseException] = []
    total = 300
    done = threading.Event()

    def writer() -> None:
        try:
            for i in range(total):
                store.record(
                    make_event(
                        f"p{i % 37}", Direction.ENTRY if i % 2 == 0 else Direction.EXIT, at=T0 + timedelta(seconds=i)
                    )
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    def syncer() -> None:
        try:
            deadline = time.monotonic() + 60
            while (not done.is_set() or sync_store.outbox_counts()["pending"]) and time.monotonic() < deadline:
                batch = sync_store.claim_pending(25)
                if batch:  # acknowledge the first half (rounded up), fail the rest: they come back later
                    half = (len(batch) + 1) // 2
                    sync_store.acknowledge(e.uuid for e in batch[:half])
                    sync_store.release(e.uuid for e in batch[half:])
                    sync_store.set_state("last_sync", str(time.time()))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def reader() -> None:
        try:
            while not done.is_set():
                store.occupancy()
                store.inside()
                store.pending_count()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=f) for f in (writer, syncer, reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert not errors, errors
        assert store.count_events() == total
        assert store.outbox_counts() == {"pending": 0, "sent": 0, "acknowledged": total}
    finally:
        sync_store.close()
        store.close()


CHILD = """
import sys, time
from datetime import UTC, datetime
from kiosk.events import Direction, NewEvent
from kiosk.store import Store
store = Store.open(sys.argv[1])
i = 0
while True:
    event = NewEvent(direction=Direction.ENTRY, credential="cccd", person_key=f"p{i}", id_number="0001",
                     full_name="Hồ Xuân Hương", date_of_birth=None, wall_time=datetime.now(UTC),
                     monotonic_ns=time.monotonic_ns())
    store.record(event)
    print(event.uuid, flush=True)
    i += 1
"""


def test_sigkilled_writer_loses_nothing_it_reported(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    reported: list[str] = []
    assert child.stdout is not None
    deadline = time.monotonic() + 60
    while len(reported) < 150 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        reported.append(line.strip())
    os.kill(child.pid, signal.SIGKILL)  # mid-way: it is recording the next event right now
    child.wait()
    reported += [line.strip() for line in child.stdout.read().splitlines() if line.strip()]
    assert len(reported) >= 150
    with Store.open(path) as store:
        stored = {e.uuid for e in store.events()}
        assert set(reported) <= stored
        assert len(stored) - len(reported) <= 1  # at most the one committed after its print was cut off
        assert store.pending_count() == len(stored) == store.occupancy()
        with store._reader.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


def test_bulk_load_matches_record(tmp_path: Path) -> None:
    # The benchmark's bulk path must build the same database as record() would.
    history = [
        make_event("a", at=T0),
        make_event("b", at=T0 + timedelta(minutes=1)),
        make_event("a", Direction.EXIT, at=T0 + timedelta(minutes=2)),
        make_event("c", at=T0 + timedelta(minutes=3), name="Đỗ Thị Ưng"),
    ]
    with Store.open(tmp_path / "bulk.db") as bulk, Store.open(tmp_path / "rec.db") as rec:
        assert bulk_load(bulk, history[:2], "acknowledged", batch=1) == 2
        assert bulk_load(bulk, history[2:], "pending", batch=1) == 2
        for event in history:
            rec.record(event)
        rec.acknowledge([history[0].uuid, history[1].uuid])
        for store in (bulk, rec):
            assert store.occupancy() == 2
            assert [e.person_key for e in store.inside()] == ["b", "c"]
            assert [e.uuid for e in store.search("do thi ung")] == [history[3].uuid]
            assert store.outbox_counts() == {"pending": 2, "sent": 0, "acknowledged": 2}
        assert list(bulk.events()) == list(rec.events())
        assert bulk.record(make_event("d")).seq == 5


def test_background_checkpoint_moves_events_into_the_main_file(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    with Store.open(path) as store:
        recorded = [store.record(make_event(f"p{i}")) for i in range(20)]
        deadline = time.monotonic() + 10
        while recorded[-1].uuid.encode() not in path.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.2)  # only the checkpointer copies WAL pages into the main file
        assert recorded[-1].uuid.encode() in path.read_bytes()
        assert store.count_events() == 20


def test_concurrent_claimers_never_share_an_event(tmp_path: Path) -> None:
    with Store.open(tmp_path / "k.db") as store:
        for i in range(400):
            store.record(make_event(f"p{i}"))
        claimed: list[list[str]] = [[], []]

        def claimer(slot: int) -> None:
            while batch := store.claim_pending(7):
                claimed[slot].extend(e.uuid for e in batch)

        threads = [threading.Thread(target=claimer, args=(slot,)) for slot in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        everything = claimed[0] + claimed[1]
        assert len(everything) == len(set(everything)) == 400
        assert store.outbox_counts() == {"pending": 0, "sent": 400, "acknowledged": 0}


def test_bad_event_values_are_refused_before_writing(store: Store) -> None:
    with pytest.raises(StoreError, match="JSON"):
        store.record(make_event(details={"when": object()}))
    with pytest.raises(StoreError, match="direction"):
        store.record(make_event(direction="sideways"))  # type: ignore[arg-type]
    assert store.count_events() == 0 and store.pending_count() == 0


def test_state_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    with Store.open(path) as store:
        assert store.get_state("etag:config") is None
        store.set_state("etag:config", 'W/"abc"')
        store.set_state("clock.offset", "-3.5")
        store.set_state("clock.offset", "1.25")
        store.set_state("gone", "x")
        store.set_state("gone", None)
    with Store.open(path) as store:
        assert store.get_state("etag:config") == 'W/"abc"'
        assert store.get_state("clock.offset") == "1.25"
        assert store.get_state("gone") is None


def test_fast_event_construction_matches_the_dataclass(store: Store) -> None:
    # codec builds StoredEvents without __init__ for speed; it must give exactly what the constructor gives.
    # (If events.py gains __slots__ or __post_init__, codec falls back to the constructor and this still holds.)
    from kiosk.store.codec import row_to_event

    store.record(make_event("a", flags=("x",), details={"k": [1, "ữ"]}))
    store.record(NewEvent(Direction.EXIT, "manual", "b", "", "", None, T0, 0))
    with store._reader.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT e.seq, uuid, direction, credential, person_key, id_number, full_name, date_of_birth, wall_time_us,"
            " monotonic_ns, source, flags, details, o.state FROM events e JOIN outbox o ON o.seq = e.seq"
        ).all()
    for row in rows:
        fast, slow = row_to_event(row, row[-1]), row_to_event(row, row[-1], fast=False)
        assert fast == slow and repr(fast) == repr(slow) and type(fast) is StoredEvent
        with pytest.raises(AttributeError):
            fast.seq = 99  # type: ignore[misc]  # still frozen


def test_odd_characters_in_the_path(tmp_path: Path) -> None:
    path = tmp_path / "Điểm danh ?#% 1" / "kiosk.db"
    with Store.open(path) as store:
        store.record(make_event())
    assert path.is_file()
    with Store.open(path) as store:
        assert store.count_events() == 1


def test_a_failing_migration_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.store import migrations

    path = tmp_path / "k.db"
    with Store.open(path) as store:
        store.record(make_event())

    def broken_v3(conn: object) -> None:
        conn.exec_driver_sql("CREATE TABLE half_done (x)")  # type: ignore[attr-defined]
        conn.exec_driver_sql("ALTER TABLE no_such_table ADD COLUMN y")  # type: ignore[attr-defined]

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken_v3))
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert "no_such_table" in str(info.value) and str(path) in str(info.value)
    monkeypatch.undo()
    with sqlite3.connect(path) as conn:  # still version 2, no half-made table, data intact
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
