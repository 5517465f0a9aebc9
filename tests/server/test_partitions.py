"""Day partitions of `events` on a real PostgreSQL: three months through real kiosks, then retention by partition.

The first test is the independent check of issue 13 as it is run: a fresh PostgreSQL migrated by `kiosk-server`,
three months of events recorded on real kiosk stores and sent by `kiosk sync --once`, `kiosk-server purge --db URL
--older-than-days 30`, then pg_class / pg_inherits asked what happened."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from kiosk.store import Store
from server import partitions
from server.db import open_database
from sync.protocol import decode_batch_result, encode_batch
from tests.support.events import visit_event
from tests.support.paths import REPO_ROOT
from tests.support.postgres import run_server_cli

DAYS = 92


def kiosk(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=180, cwd=REPO_ROOT
    )
    assert done.returncode == 0, f"kiosk {args[0]} exited {done.returncode}: {done.stderr}"
    return done.stdout


def _psql_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def partition_rows(url: str) -> dict[str, int]:
    """Each partition of `events` and how many rows it holds, straight from the catalogue."""
    with psycopg.connect(_psql_url(url)) as conn:
        kind = conn.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass('events')").fetchone()
        assert kind == ("p",), f"events is not partitioned: relkind {kind}"
        names = [
            name
            for (name,) in conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass('events')"
            )
        ]
        return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}  # type: ignore[index]


def _record_three_months(db: Path, now: datetime, kiosk_number: int) -> dict[str, datetime]:
    recorded: dict[str, datetime] = {}
    with Store.open(db) as store:
        for day in range(DAYS):
            for hour in (9, 17):
                at = (now - timedelta(days=day)).replace(hour=hour, minute=kiosk_number * 7, second=0, microsecond=0)
                if at > now:
                    continue
                event = visit_event(f"person-{kiosk_number}-{day}-{hour}", at)
                store.record(event)
                recorded[event.uuid] = at
    return recorded


def test_three_months_through_kiosks_then_purge_drops_partitions(tmp_path: Path, live_server, pg_url: str) -> None:
    server = live_server(pg_url)
    venue = server.add_venue("Chợ Bến Thành")
    now = datetime.now(UTC)
    recorded: dict[str, datetime] = {}
    for number in (1, 2):
        config, db = tmp_path / f"kiosk{number}.toml", tmp_path / f"kiosk{number}.sqlite3"
        kiosk("enroll", "--server", server.url, "--code", server.add_kiosk(venue), "--config", str(config))
        recorded |= _record_three_months(db, now, number)
        kiosk("sync", "--once", "--config", str(config), "--db", str(db))
    stored = server.stored_uuids()
    assert sorted(stored) == sorted(recorded), "every event stored exactly once"

    before = partition_rows(server.db_url)
    holding = [name for name, rows in before.items() if rows]
    assert len(holding) >= 3, before
    assert before.get("events_default", 0) == 0, "every sane day went to its own partition"

    run_server_cli("purge", "--db", server.db_url, "--older-than-days", "30")
    cut = datetime.now(UTC) - timedelta(days=30)

    after = partition_rows(server.db_url)
    assert len(after) < len(before)
    engine = open_database(server.db_url)
    with engine.connect() as conn:
        oldest = conn.execute(text("SELECT min(corrected_time) FROM events")).scalar_one()
        kept = set(conn.execute(text("SELECT uuid FROM events")).scalars())
        # A day's uuids go with their own partition, UUID_MARGIN after the day's events; every kept event keeps its.
        margin, _ = partitions.day_bounds((cut - partitions.UUID_MARGIN).date())
        forgotten = conn.execute(text("SELECT count(*) FROM event_uuids WHERE aged_from < :m"), {"m": margin})
        assert forgotten.scalar_one() == 0
        unclaimed = conn.execute(
            text(
                "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_uuids u "
                "WHERE u.venue_id = e.venue_id AND u.uuid = e.uuid)"
            )
        )
        assert unclaimed.scalar_one() == 0
    assert oldest >= cut - timedelta(minutes=5)  # the purge ran a moment before `cut` was taken
    recent = {uuid for uuid, at in recorded.items() if at > cut + timedelta(minutes=5)}
    assert recent and recent <= kept, "every recent event is still there"
    assert len(kept) < len(recorded)


def test_resend_with_another_clock_offset_is_a_duplicate_not_a_copy(live_server, pg_url: str) -> None:
    """The corrected time is measured again on a resend: exactly-once must not depend on it."""
    import httpx

    server = live_server(pg_url)
    token = server.enroll(server.add_venue())
    event = visit_event("pk-1", datetime.now(UTC) - timedelta(days=3))
    answers = []
    for skew in (timedelta(0), timedelta(days=1, hours=2)):  # the kiosk's clock moved a day in between
        reply = httpx.post(
            f"{server.url}/api/v1/events",
            content=encode_batch([event], datetime.now(UTC) - skew),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=10,
        )
        assert reply.status_code == 200, reply.text
        answers.append(decode_batch_result(reply.content).results[0].status)
    assert answers == ["stored", "duplicate"]
    assert server.stored_uuids() == [event.uuid]


def _event_row(uuid: str, at: datetime, *, suspect: bool = False) -> dict[str, object]:
    return {
        "venue_id": 1,
        "uuid": uuid,
        "kiosk_id": 1,
        "direction": "entry",
        "credential": "cccd",
        "person_key": "pk",
        "id_number": "079095001234",
        "full_name": "Nguyễn Văn An",
        "wall_time": at,
        "corrected_time": at,
        "clock_offset_ms": 0,
        "monotonic_ns": 1,
        "source": "scan",
        "flags": "[]",
        "details": "{}",
        "received_at": datetime.now(UTC),
        "clock_suspect": suspect,
    }


def test_revision_0006_converts_a_table_with_data_and_back(pg_cluster) -> None:
    from alembic import command
    from sqlalchemy import insert

    from server import db
    from server.models import events, venues

    url = pg_cluster.create_database()
    engine = db.make_engine(url)
    with engine.begin() as conn:
        command.upgrade(db.alembic_config(conn), "0005")
        conn.execute(insert(venues).values(id=1, name="Chợ", created_at=datetime.now(UTC), station_config="{}"))
        now = datetime.now(UTC)
        rows = [_event_row(f"e-{n}", now - timedelta(days=n, hours=1)) for n in range(5)]
        rows.append(_event_row("e-2010", datetime(2010, 1, 1, tzinfo=UTC), suspect=True))  # a dead CMOS battery
        conn.execute(insert(events), rows)
    with engine.begin() as conn:
        command.upgrade(db.alembic_config(conn), "0006")
    counts = partition_rows(url)
    assert counts["events_default"] == 1, "the 2010 clock has no day of its own"
    assert sum(1 for name, rows in counts.items() if name.startswith("events_p") and rows == 1) == 5
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM event_uuids")).scalar_one() == 6
        assert sorted(conn.execute(text("SELECT uuid FROM events")).scalars()) == sorted(r["uuid"] for r in rows)
    with engine.begin() as conn:
        command.downgrade(db.alembic_config(conn), "0005")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'events'")).scalar_one() == "r"
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 6
        assert conn.execute(text("SELECT to_regclass('event_uuids')")).scalar() is None
    db.migrate(engine)  # and up again, to the head, with the data
    assert sum(partition_rows(url).values()) == 6
    engine.dispose()


def test_purge_by_partitions_keeps_the_boundary_day_and_a_suspect_clock(pg_url: str) -> None:
    from sqlalchemy import insert

    from server import partitions
    from server.db import open_database
    from server.models import events, venues
    from server.retention import purge_events

    engine = open_database(pg_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(venues).values(id=1, name="Chợ", created_at=now, station_config="{}"))
    rows = [_event_row(f"e-{hours}", now - timedelta(hours=hours)) for hours in range(0, 24 * 10, 6)]
    rows.append(_event_row("e-2010", datetime(2010, 1, 1, tzinfo=UTC), suspect=True))  # arrived now: kept
    partitions.ensure_days(engine, partitions.rows_days(rows))
    with engine.begin() as conn:
        conn.execute(insert(events), rows)
        conn.execute(
            text(
                "INSERT INTO event_uuids SELECT venue_id, uuid, (wall_time AT TIME ZONE 'UTC')::date, corrected_time "
                "FROM events WHERE NOT clock_suspect"
            )
        )
    cut = now - timedelta(days=5)

    def wholly_before_the_cut() -> list[object]:
        with engine.connect() as conn:
            return [day for day in partitions.day_partitions(conn) if partitions.day_bounds(day)[1] <= cut]

    assert len(wholly_before_the_cut()) >= 4
    deleted = purge_events(engine, cut)
    assert wholly_before_the_cut() == [], "whole days dropped"
    with engine.connect() as conn:
        kept = set(conn.execute(text("SELECT uuid FROM events")).scalars())
        assert conn.execute(text("SELECT count(*) FROM event_uuids WHERE aged_from < :c"), {"c": cut}).scalar() == 0
    expected = {row["uuid"] for row in rows if row["corrected_time"] >= cut or row["clock_suspect"]}
    assert kept == expected and deleted == len(rows) - len(expected)
    partitions.maintain(engine, now)  # idempotent: days ahead exist, nothing to drain but the suspect clock
    with engine.connect() as conn:
        days = partitions.day_partitions(conn)
        assert now.date() + timedelta(days=partitions.DAYS_AHEAD) in days
        assert conn.execute(text("SELECT uuid FROM events_default")).scalars().all() == ["e-2010"]


def test_a_day_without_partition_lands_in_the_default_and_is_drained_into_its_own(pg_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import insert

    from server import partitions
    from server.db import open_database
    from server.models import events, venues

    engine = open_database(pg_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(venues).values(id=1, name="Chợ", created_at=now, station_config="{}"))
    old = now - timedelta(days=40)
    with engine.begin() as conn:
        conn.execute(insert(events), [_event_row("e-old", old)])
        assert conn.execute(text("SELECT uuid FROM events_default")).scalars().all() == ["e-old"]

    def make(_: int) -> bool:  # two workers asking for the same day at once: one makes it, neither fails
        with engine.begin() as conn:
            return partitions.create_day(conn, (now + timedelta(days=30)).date())

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(make, range(2))) == [False, True]

    partitions.maintain(engine, now)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events_default")).scalar_one() == 0
        name = partitions.partition_name(old.date())
        assert conn.execute(text(f"SELECT uuid FROM {name}")).scalars().all() == ["e-old"]


def test_two_workers_purging_at_once_both_succeed(pg_url: str) -> None:
    """`serve --workers N`: every worker purges at start, at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import insert

    from server import partitions
    from server.db import open_database
    from server.models import events, venues
    from server.retention import purge_events

    engine = open_database(pg_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(venues).values(id=1, name="Chợ", created_at=now, station_config="{}"))
    rows = [_event_row(f"e-{days}", now - timedelta(days=days)) for days in range(0, 40, 2)]
    partitions.ensure_days(engine, partitions.rows_days(rows))
    with engine.begin() as conn:
        conn.execute(insert(events), rows)
    cut = now - timedelta(days=21)
    with ThreadPoolExecutor(2) as pool:
        deleted = sum(pool.map(lambda _: purge_events(engine, cut), range(2)))
    assert deleted == sum(1 for row in rows if row["corrected_time"] < cut)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT min(corrected_time) FROM events")).scalar_one() >= cut


def test_a_text_value_with_a_newline_is_never_sent_split() -> None:
    from server.ingest import _joined

    assert _joined(["a", "", "b"]) == "\na\n\nb" and _joined([""]) == "\n"
    with pytest.raises(ValueError, match="newline"):
        _joined(["one\ntwo"])
