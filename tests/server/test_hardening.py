"""Issue 11 in process (SQLite and PostgreSQL): retention by a moved clock, token expiry, enrolment throttling,
events refused alone, exports that one bad event cannot break, usage errors for unusable durations."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from server import admin
from server.models import declarations, events, persons
from sync import protocol
from tests.support.paths import REPO_ROOT
from tests.support.server_env import ServerEnv, make_event

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120
    )


def _event_row(uuid: str, corrected: datetime, received: datetime, suspect: bool = False, **extra: object) -> dict:
    return {
        "venue_id": 1,
        "uuid": uuid,
        "kiosk_id": 1,
        "direction": "entry",
        "credential": extra.pop("credential", "cccd"),
        "person_key": "pk",
        "id_number": extra.pop("id_number", "079095001234"),
        "full_name": "Nguyễn Văn An",
        "wall_time": corrected,
        "corrected_time": corrected,
        "clock_offset_ms": 0,
        "monotonic_ns": 1,
        "source": "camera",
        "flags": extra.pop("flags", "[]"),
        "details": "{}",
        "received_at": received,
        "clock_suspect": suspect,
    }


def _seed_retention(engine) -> None:  # noqa: ANN001
    day = timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(
            insert(events),
            [
                _event_row("old", NOW - 30 * day, NOW - 30 * day),
                _event_row("recent", NOW - 2 * day, NOW - 2 * day),
                # An entry dated 2099 by a broken clock, arrived a month ago: goes by its arrival.
                _event_row("future", datetime(2099, 1, 1, tzinfo=UTC), NOW - 30 * day, suspect=True),
                _event_row("future-new", datetime(2099, 1, 1, tzinfo=UTC), NOW - day, suspect=True),
                # A personal-QR visit of the recent person keeps that person alive.
                _event_row("card", NOW - day, NOW - day, credential="personal", id_number="PRECENTXXXXX"),
            ],
        )
        for person_id, created in (("POLDXXXXXXXX", NOW - 40 * day), ("PRECENTXXXXX", NOW - 40 * day)):
            conn.execute(insert(persons).values(id=person_id, full_name="An", created_at=created))
        conn.execute(
            insert(declarations).values(
                person_id="POLDXXXXXXXX",
                declared_at=NOW - 25 * day,
                answers="{}",
                symptoms=False,
                kid="K",
                qr_expires_at=NOW - 18 * day,
            )
        )


def _left(engine) -> tuple[set[str], int, set[str]]:  # noqa: ANN001
    with engine.connect() as conn:
        return (
            set(conn.scalars(select(events.c.uuid))),
            conn.execute(select(func.count()).select_from(declarations)).scalar_one(),
            set(conn.scalars(select(persons.c.id))),
        )


def test_the_app_purges_by_retention_on_start_and_daily_by_its_clock(server_db_url: str) -> None:
    """Issue 11 #4: events (future-dated by arrival), declarations and persons; the clock moves, not the
    calendar; the app's own loop purges again when a day has passed."""
    from server.app import create_app
    from server.db import open_database
    from server.settings import ServerSettings

    engine = open_database(server_db_url)
    admin.add_venue(engine, "V")
    _seed_retention(engine)
    clock = Clock(NOW)
    settings = ServerSettings(db_url=server_db_url, clock=clock, purge_interval=0.2, retention_days=21)
    with TestClient(create_app(settings, engine)):
        assert _left(engine) == ({"recent", "future-new", "card"}, 0, {"PRECENTXXXXX"})
        clock.now = NOW + timedelta(days=22)  # a little over three weeks later
        deadline = time.monotonic() + 10
        while _left(engine) != (set(), 0, set()) and time.monotonic() < deadline:
            time.sleep(0.1)  # events, declarations and persons go in steps of one purge: wait for the last
        assert _left(engine) == (set(), 0, set())
    engine.dispose()


def test_purge_command_applies_retention_to_declarations_and_persons(tmp_path: Path) -> None:
    from server.db import open_database

    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = open_database(url)
    admin.add_venue(engine, "V")
    _seed_retention(engine)
    engine.dispose()
    # The seeded times are relative to NOW; a retention of (today - NOW) + 21 days is the same cut.
    days = (datetime.now(UTC) - NOW) / timedelta(days=1) + 21
    done = cli("purge", "--db", url, "--retention-days", f"{days:.6f}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"  # old + future (arrived a month ago)
    assert _left(open_database(url)) == ({"recent", "future-new", "card"}, 0, {"PRECENTXXXXX"})


def test_expired_tokens_are_refused_and_kiosk_tokens_get_their_life(env: ServerEnv) -> None:
    """Issue 11 #3: `--expires-days`."""
    past = admin.add_user(env.engine, "authority", None, "old", datetime.now(UTC) - timedelta(seconds=1))
    future = admin.add_user(env.engine, "authority", None, "new", datetime.now(UTC) + timedelta(days=1))
    query = {"id_number": "1", "from": "2021-09-01T00:00:00Z", "to": "2021-09-02T00:00:00Z"}
    assert env.client.get(protocol.TRACE_PATH, params=query, headers=env.headers(past)).status_code == 401
    assert env.client.get(protocol.TRACE_PATH, params=query, headers=env.headers(future)).status_code == 200
    _, code = admin.add_kiosk(env.engine, env.venue_id, token_days=30)
    token = env.client.post(protocol.ENROLL_PATH, json={"code": code}).json()["token"]
    from server.auth import hash_secret
    from server.models import tokens

    with env.engine.connect() as conn:
        expires = conn.execute(select(tokens.c.expires_at).where(tokens.c.token_hash == hash_secret(token))).scalar()
    assert expires is not None and timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)


def test_wrong_enrolment_codes_are_throttled_per_client(env: ServerEnv) -> None:
    """Issue 11 #8: ten wrong codes a minute, then 429 with Retry-After, before any database work."""
    answers = [env.client.post(protocol.ENROLL_PATH, json={"code": f"WRONG{n}"}) for n in range(11)]
    assert [a.status_code for a in answers[:10]] == [401] * 10
    assert answers[10].status_code == 429 and int(answers[10].headers["Retry-After"]) >= 1
    _, code = admin.add_kiosk(env.engine, env.venue_id)
    assert env.client.post(protocol.ENROLL_PATH, json={"code": code}).status_code == 429  # even a right one


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (["ok", "nul\x00"], "flags[1]: contains a control character"),
        (["line\nbreak"], "flags[0]: contains a control character"),
        (["\u202eevil"], "flags[0]: contains a control character"),
        (["\ud800"], "flags[0]: contains an unpaired surrogate"),
        (["x" * 101], "flags[0]: longer than 100 characters"),
    ],
)
def test_a_bad_flag_refuses_its_event_alone(env: ServerEnv, flags: list[str], reason: str) -> None:
    """Issue 11 #6: the bad event is refused with a reason, the rest of the batch is stored."""
    good, bad = make_event(), make_event(id_number="079095000002")
    body = protocol.batch_to_json([good, bad], datetime.now(UTC))
    body["events"][1]["flags"] = flags
    raw = json.dumps(body).encode()  # ensure_ascii: a lone surrogate travels as \\ud800
    answer = env.client.post(protocol.EVENTS_PATH, content=raw, headers=env.headers())
    assert answer.status_code == 200, answer.text
    results = {r.uuid: (r.status, r.reason) for r in protocol.decode_batch_result(answer.content).results}
    assert results == {good.uuid: ("stored", None), bad.uuid: ("refused", reason)}
    assert env.stored() == [good.uuid]


def test_a_stored_bad_flag_never_breaks_the_exports(env: ServerEnv, tmp_path: Path) -> None:
    """Issue 11 #6: rows stored before the check (a lone surrogate, NUL, RTL in flags) still export whole."""
    with env.engine.begin() as conn:
        rows = [
            _event_row(f"e{n}", NOW + timedelta(minutes=n), NOW, flags=json.dumps([flag]))
            for n, flag in enumerate(["\ud800", "a\x00b", "\u202e=1+1", "ok", "=cmd"] * 3)
        ]
        for row in rows:
            row["venue_id"] = env.venue_id
        conn.execute(insert(events), rows)
    manager = admin.add_user(env.engine, "manager", env.venue_id)
    answer = env.client.get(f"/api/v1/venues/{env.venue_id}/export", headers=env.headers(manager))
    assert answer.status_code == 200
    exported = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(exported) == 15
    assert {r["flags"] for r in exported} == {"\ufffd", "a\ufffdb", "'\u202e=1+1", "ok", "'=cmd"}
    url = str(env.engine.url.render_as_string(hide_password=False))
    done = cli("export", "--db", url, "--venue", str(env.venue_id), "--csv", str(tmp_path / "v.csv"))
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "v.csv").read_text(encoding="utf-8-sig").splitlines()) == 16


@pytest.mark.parametrize(
    "args",
    [
        ("kiosk", "add", "--venue", "1", "--expires-hours", "-1"),
        ("kiosk", "add", "--venue", "1", "--expires-hours", "0"),
        ("kiosk", "add", "--venue", "1", "--expires-hours", "nan"),
        ("kiosk", "code", "--kiosk", "1", "--expires-hours", "-24"),
        ("kiosk", "add", "--venue", "1", "--expires-days", "-3"),
        ("user", "add", "--role", "authority", "--expires-days", "-1"),
        ("person", "card", "--name", "An", "--out", "x.png", "--valid-days", "-5"),
        ("purge", "--retention-days", "0"),
        ("serve", "--body-timeout", "-1"),
        ("serve", "--ingest-slots", "0"),
        ("serve", "--trusted-proxy", "not-an-address"),
    ],
)
def test_unusable_durations_are_one_line_usage_errors(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Issue 11 #9: a negative --expires-hours used to issue a code that was dead on arrival."""
    done = cli(*args, "--db", f"sqlite:///{tmp_path / 's.db'}")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.db").exists()  # refused before anything was done
