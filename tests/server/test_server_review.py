"""Review fixes: personal-QR visits in tracing, clock-suspect events stored, out-of-range times, declarations
that claim another person's ID number, the SQLite file's mode, canonical uuids and field limits.

Real parts: SQLite files and PostgreSQL (`server_db_url`), the app through TestClient, the CLI as a subprocess.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.events import Direction
from server import admin
from server.auth import Principal
from server.ingest import ingest
from server.models import events, persons
from sync import protocol
from tests.support.paths import REPO_ROOT
from tests.support.server_env import ServerEnv, make_event

ROOT = REPO_ROOT
DAY = datetime(2021, 9, 1, tzinfo=UTC)
ANSWERS = dict.fromkeys(("fever", "cough", "breath", "throat", "taste_smell", "contact", "travel"), False)
HER_NUMBER = "079195001234"
HIS_NUMBER = "079095007777"


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=120, env=env
    )


def authority(env: ServerEnv) -> dict[str, str]:
    return env.headers(admin.add_user(env.engine, "authority", None, "tracer"))


def declare(env: ServerEnv, name: str, number: str, **extra: object):  # noqa: ANN201
    body = {"full_name": name, "id_number": number, "answers": ANSWERS, **extra}
    return env.client.post("/api/v1/declarations", json=body)


def personal_event(person_id: str, name: str, hour: float, direction: Direction = Direction.ENTRY):  # noqa: ANN201
    """What a kiosk records for a personal QR (kiosk/credentials/personal.py): the person id as id_number."""
    event = make_event(id_number=person_id, person_key=person_id, name=name, wall_time=at(hour), direction=direction)
    return dataclasses.replace(event, credential="personal")


def store(env: ServerEnv, batch_events: list) -> None:
    now = datetime.now(UTC)
    result = ingest(
        env.engine,
        protocol.Batch(kiosk_time=now, events=tuple(batch_events)),
        Principal("kiosk", env.venue_id, env.kiosk_id),
        now,
    )
    assert {r.status for r in result.results} == {"stored"}


# --- 1. tracing finds personal-QR visits -----------------------------------------------------------------------


def test_trace_by_id_number_finds_personal_qr_visits_and_names_contacts(env: ServerEnv) -> None:
    from server.keys import generate_key

    generate_key(env.engine)
    from server.persons import resolve

    her = declare(env, "Lý Thu Nhung", HER_NUMBER)
    him = declare(env, "Trần Văn Bình", HIS_NUMBER, date_of_birth="1990-02-03")
    assert her.status_code == him.status_code == 201, her.text
    her_id, his_id = her.json()["person_id"], him.json()["person_id"]
    for person_id in (her_id, his_id):  # staff saw their papers: their personal QRs count as their numbers
        resolve(env.engine, person_id, "verified")
    store(
        env,
        [
            personal_event(her_id, "Lý Thu Nhung", 10),
            # She leaves showing her CCCD: one stay (paired by her number), and not a contact of her own.
            make_event(id_number=HER_NUMBER, name="Lý Thu Nhung", wall_time=at(11), direction=Direction.EXIT),
            personal_event(his_id, "Trần Văn Bình", 10.5),
            personal_event(his_id, "Trần Văn Bình", 12, Direction.EXIT),
            make_event(id_number="079095000011", wall_time=at(9), name="Người 11"),  # 09:00-11:00 by default
        ],
    )
    query = {"id_number": HER_NUMBER, "from": at(0).isoformat(), "to": at(24).isoformat()}
    answer = env.client.get(protocol.TRACE_PATH, params=query, headers=authority(env))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert [(v["start"], v["end"], v["end_inferred"], v["id_number"]) for v in report["visits"]] == [
        (at(10).isoformat(), at(11).isoformat(), False, HER_NUMBER)
    ]
    contacts = {c["id_number"]: c for c in report["visits"][0]["contacts"]}
    assert set(contacts) == {HIS_NUMBER, "079095000011"}  # her own CCCD scan is not a contact of hers
    assert contacts[HIS_NUMBER]["person_id"] == his_id and contacts[HIS_NUMBER]["date_of_birth"] == "1990-02-03"
    assert contacts["079095000011"]["person_id"] is None
    assert contacts[HIS_NUMBER]["id_number_verified"] and contacts["079095000011"]["id_number_verified"]
    assert report["contact_count"] == 2 and report["unverified_visits"] == []

    rows = list(
        csv.DictReader(
            io.StringIO(
                env.client.get(
                    protocol.TRACE_PATH, params={**query, "format": "csv"}, headers=authority(env)
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert {(r["contact_id_number"], r["contact_person_id"]) for r in rows} == {
        (HIS_NUMBER, his_id),
        ("079095000011", ""),
    }

    # Traced from his side, she appears under her real number.
    his = env.client.get(protocol.TRACE_PATH, params={**query, "id_number": HIS_NUMBER}, headers=authority(env))
    assert {(c["id_number"], c["person_id"]) for v in his.json()["visits"] for c in v["contacts"]} >= {
        (HER_NUMBER, her_id)
    }


def test_cli_trace_finds_personal_qr_visits(tmp_path: Path) -> None:
    from server.db import open_database
    from server.declarations import PersonInput
    from server.declarations import declare as declare_person
    from server.keys import generate_key

    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = open_database(url)
    venue = admin.add_venue(engine, "Chợ Bến Thành")
    kiosk_id, _ = admin.add_kiosk(engine, venue)
    generate_key(engine)
    issued = declare_person(engine, PersonInput("Lý Thu Nhung", HER_NUMBER), ANSWERS)
    now = datetime.now(UTC)
    batch = protocol.Batch(kiosk_time=now, events=(personal_event(issued.person_id, "Lý Thu Nhung", 10),))
    ingest(engine, batch, Principal("kiosk", venue, kiosk_id), now)
    engine.dispose()
    done = cli("trace", "--db", url, "--id-number", HER_NUMBER, "--from", at(0).isoformat(), "--to", at(24).isoformat())
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # Self-declared: listed apart, labelled, until staff verify the claim.
    assert report["visits"] == []
    assert [(v["start"], v["unverified"], v["declared_name"]) for v in report["unverified_visits"]] == [
        (at(10).isoformat(), True, "Lý Thu Nhung")
    ]
    assert cli("person", "resolve", "--db", url, "--person", issued.person_id, "--as", "verified").returncode == 0
    done = cli("trace", "--db", url, "--id-number", HER_NUMBER, "--from", at(0).isoformat(), "--to", at(24).isoformat())
    assert [v["start"] for v in json.loads(done.stdout)["visits"]] == [at(10).isoformat()]


# --- 2. events of a wrong clock are stored, flagged --------------------------------------------------------------


def test_dead_cmos_battery_events_are_stored_flagged_and_survive_purge(env: ServerEnv) -> None:
    booted_2010 = make_event(wall_time=datetime(2010, 1, 1, 8, 5, tzinfo=UTC))
    ahead = make_event(id_number="079095000002", wall_time=datetime.now(UTC) + timedelta(days=400))
    # A correction that runs off the calendar (kiosk_time in 9999): kept with the kiosk's own wall time.
    lost_in_time = make_event(id_number="079095000003", wall_time=datetime(1, 1, 2, tzinfo=UTC))
    answer = protocol.decode_batch_result(env.push([booted_2010, ahead]).content)
    assert [r.status for r in answer.results] == ["stored", "stored"]
    far = env.push([lost_in_time], kiosk_time=datetime(9999, 1, 1, tzinfo=UTC))
    assert [r.status for r in protocol.decode_batch_result(far.content).results] == ["stored"]
    other_venue = make_event(id_number="079095000004")
    body = protocol.batch_to_json([other_venue], datetime.now(UTC))
    body["events"][0]["venue_id"] = env.venue_id + 1000
    refused = env.client.post(protocol.EVENTS_PATH, json=body, headers=env.headers())
    assert [r.status for r in protocol.decode_batch_result(refused.content).results] == ["refused"]

    with env.engine.connect() as conn:
        rows = {r.uuid: r for r in conn.execute(select(events))}
    assert set(rows) == {booted_2010.uuid, ahead.uuid, lost_in_time.uuid}
    assert all(r.clock_suspect for r in rows.values())
    assert rows[booted_2010.uuid].wall_time == datetime(2010, 1, 1, 8, 5, tzinfo=UTC)
    assert rows[booted_2010.uuid].corrected_time.year == 2010  # tracing keeps using the corrected time
    assert rows[lost_in_time.uuid].corrected_time == datetime(1, 1, 2, tzinfo=UTC)
    assert "clock_suspect" in json.loads(rows[booted_2010.uuid].flags)

    # Retention goes by arrival for them: a 30-day purge must not delete what arrived today.
    assert admin.purge_events(env.engine, datetime.now(UTC) - timedelta(days=30)) == 0
    assert admin.purge_events(env.engine, datetime.now(UTC) + timedelta(days=1000)) == 3


# --- 3. times with no UTC equivalent ----------------------------------------------------------------------------


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"])
def test_trace_out_of_range_times_are_422(env: ServerEnv, moment: str) -> None:
    for params in ({"from": moment, "to": "2021-09-02T00:00:00+00:00"}, {"from": "2021-09-01T00:00:00Z", "to": moment}):
        answer = env.client.get(
            protocol.TRACE_PATH, params={"id_number": "079095000001", **params}, headers=authority(env)
        )
        assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"])
def test_cli_out_of_range_times_are_one_line(tmp_path: Path, moment: str) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    for args in (
        ("trace", "--db", url, "--id-number", "1", "--from", moment, "--to", "2021-09-02T00:00:00Z"),
        ("purge", "--db", url, "--before", moment),
    ):
        done = cli(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "1-9999" in done.stderr
    for days in ("1e12", "nan", "-3"):
        done = cli("purge", "--db", url, "--older-than-days", days)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    done = cli(
        "trace",
        "--db",
        url,
        "--id-number",
        "1",
        "--from",
        "2021-09-01T00:00:00Z",
        "--to",
        "2021-09-02T00:00:00Z",
        "--margin-minutes",
        "nan",
    )
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr


# --- 4. declarations cannot take over another person's number ---------------------------------------------------


@pytest.fixture
def keyed(env: ServerEnv) -> ServerEnv:
    from server.keys import generate_key

    generate_key(env.engine)
    return env


def test_declaring_someone_elses_number_never_blocks_nor_reveals(keyed: ServerEnv) -> None:
    """Issue 11 #2: a typed number is a claim. The squatter and the owner both get their QR, the answers look
    the same, and the squatter's QR is a different person: it never joins the owner's."""
    first = declare(keyed, "Lý Thu Nhung", HER_NUMBER, date_of_birth="1995-04-01")
    assert first.status_code == 201
    # Same person, typed differently: case, diacritics, spacing.
    again = declare(keyed, "  LY thu  NHUNG ", HER_NUMBER, date_of_birth="1995-04-01")
    assert again.status_code == 201 and again.json()["person_id"] == first.json()["person_id"]
    unknown = declare(keyed, "Nguyễn Văn Kẻ", "079195009999", date_of_birth="1995-04-01")
    others = set()
    for name, born in (("Nguyễn Văn Kẻ", "1995-04-01"), ("Lý Thu Nhung", "1980-01-01"), ("Lý Thu Nhung", None)):
        squat = declare(keyed, name, HER_NUMBER, date_of_birth=born)
        assert squat.status_code == unknown.status_code == 201, squat.text
        assert set(squat.json()) == set(unknown.json())
        others.add(squat.json()["person_id"])
    assert first.json()["person_id"] not in others and len(others) == 3
    form = {
        "full_name": "Nguyễn Văn Kẻ",
        "id_number": HER_NUMBER,
        "date_of_birth": "1995-04-01",
        "pledge": "yes",
        **{key: "no" for key in ANSWERS},
    }
    page = keyed.client.post("/declare?lang=en", data=form)
    fresh = keyed.client.post("/declare?lang=en", data={**form, "id_number": "079195008888"})
    assert page.status_code == fresh.status_code == 200 and "staff" not in page.text
    with keyed.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(persons)).scalar_one() == 6


def test_squatters_visits_are_listed_apart_and_staff_resolve_the_conflict(keyed: ServerEnv) -> None:
    from server.persons import conflicts, resolve

    owner = declare(keyed, "Lý Thu Nhung", HER_NUMBER, date_of_birth="1995-04-01").json()["person_id"]
    squatter = declare(keyed, "Nguyễn Văn Kẻ", HER_NUMBER).json()["person_id"]
    store(
        keyed,
        [
            make_event(id_number=HER_NUMBER, name="Lý Thu Nhung", wall_time=at(8)),  # her own CCCD
            personal_event(squatter, "Nguyễn Văn Kẻ", 10),
            personal_event(owner, "Lý Thu Nhung", 14),
        ],
    )
    with keyed.engine.connect() as conn:
        shared = conflicts(conn)
    assert {(c["person_id"], c["id_status"], c["full_name"]) for c in shared} == {
        (owner, "claimed", "Lý Thu Nhung"),
        (squatter, "claimed", "Nguyễn Văn Kẻ"),
    }
    query = {"id_number": HER_NUMBER, "from": at(0).isoformat(), "to": at(24).isoformat()}

    def report() -> dict:
        answer = keyed.client.get(protocol.TRACE_PATH, params=query, headers=authority(keyed))
        assert answer.status_code == 200, answer.text
        return answer.json()

    before = report()
    assert [v["start"] for v in before["visits"]] == [at(8).isoformat()]  # only what her card proves
    assert {(v["person_id"], v["declared_name"], v["unverified"]) for v in before["unverified_visits"]} == {
        (squatter, "Nguyễn Văn Kẻ", True),
        (owner, "Lý Thu Nhung", True),
    }
    resolve(keyed.engine, owner, "verified")
    resolve(keyed.engine, squatter, "rejected")
    other = declare(keyed, "Người Khác", HER_NUMBER).json()["person_id"]
    with pytest.raises(admin.Invalid):  # one verified holder per number
        resolve(keyed.engine, other, "verified")
    resolve(keyed.engine, other, "rejected")
    after = report()
    assert [v["start"] for v in after["visits"]] == [at(8).isoformat(), at(14).isoformat()]
    assert [(v["person_id"], v["id_status"]) for v in after["unverified_visits"]] == [(squatter, "rejected")]
    with keyed.engine.connect() as conn:
        assert conflicts(conn) == []
        assert {r.value for r in admin.list_revocations(conn)} == {squatter, other}


def test_concurrent_declarations_of_one_number_make_one_person(keyed: ServerEnv) -> None:
    from server.declarations import PersonInput
    from server.declarations import declare as declare_person

    ids: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def one() -> None:
        barrier.wait()
        try:
            ids.append(declare_person(keyed.engine, PersonInput("Lý Thu Nhung", HER_NUMBER), ANSWERS).person_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(ids) == 8 and len(set(ids)) == 1
    with keyed.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(persons)).scalar_one() == 1


def test_declarations_are_rate_limited_per_address(keyed: ServerEnv) -> None:
    answers = [declare(keyed, "Lý Thu Nhung", HER_NUMBER).status_code for _ in range(21)]
    assert answers[:20] == [201] * 20 and answers[20] == 429
    limited = declare(keyed, "Lý Thu Nhung", HER_NUMBER)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_token_bucket_refills() -> None:
    from server.ratelimit import TokenBucket

    now = [0.0]
    bucket = TokenBucket(2, per=60, clock=lambda: now[0])
    assert [bucket.take("a"), bucket.take("a")] == [0, 0]
    assert bucket.take("a") == 30 and bucket.take("b") == 0
    now[0] = 30.0
    assert bucket.take("a") == 0 and bucket.take("a") > 0


# --- 5. the database file and the private key ------------------------------------------------------------------


def test_new_sqlite_database_is_private(tmp_path: Path) -> None:
    from server.db import open_database

    path = tmp_path / "fresh.db"
    old_umask = os.umask(0o022)
    try:
        engine = open_database(f"sqlite:///{path}")
        admin.add_venue(engine, "Phở")
        with engine.connect() as conn:  # keep a connection open: the -wal and -shm exist
            conn.execute(select(1))
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
        engine.dispose()
    finally:
        os.umask(old_umask)
    assert {"fresh.db", "fresh.db-wal", "fresh.db-shm"} <= set(modes)
    assert all(mode == 0o600 for name, mode in modes.items() if name.startswith("fresh.db")), modes


def test_keys_generate_without_passphrase_warns(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "QRCK_SIGNING_KEY_PASSPHRASE"}
    url = f"sqlite:///{tmp_path / 'k.db'}"
    for command in ("generate", "rotate"):
        done = cli("keys", command, "--db", url, env=environ)
        assert done.returncode == 0, done.stderr
        assert "QRCK_SIGNING_KEY_PASSPHRASE" in done.stderr and "unencrypted" in done.stderr
    done = cli(
        "keys",
        "rotate",
        "--db",
        f"sqlite:///{tmp_path / 'e.db'}",
        env={**environ, "QRCK_SIGNING_KEY_PASSPHRASE": "correct horse"},
    )
    assert done.returncode == 0 and "unencrypted" not in done.stderr, done.stderr


# --- 6, 7. the wire: canonical uuids, a real version number, field limits -------------------------------------


def _post(env: ServerEnv, body: dict) -> int:
    return env.client.post(protocol.EVENTS_PATH, json=body, headers=env.headers()).status_code


@pytest.mark.parametrize("shape", [str.upper, lambda u: "{" + u + "}", lambda u: u.replace("-", "")])
def test_non_canonical_uuid_refuses_the_batch(env: ServerEnv, shape) -> None:  # noqa: ANN001
    good, odd = make_event(), make_event(id_number="079095000002")
    body = protocol.batch_to_json([good, odd], datetime.now(UTC))
    body["events"][1]["uuid"] = shape(odd.uuid)
    assert _post(env, body) == 422
    assert env.stored() == []


def test_protocol_true_is_not_version_1(env: ServerEnv) -> None:
    body = protocol.batch_to_json([make_event()], datetime.now(UTC))
    body["protocol"] = True
    assert _post(env, body) == 422
    body["protocol"] = 1.0
    assert _post(env, body) == 422
    body["protocol"] = 1
    assert _post(env, body) == 200


@pytest.mark.parametrize(("name", "limit"), [("credential", 20), ("source", 40)])
def test_fields_at_the_limit_are_stored_whole_and_longer_refused(env: ServerEnv, name: str, limit: int) -> None:
    at_limit, over = make_event(), make_event(id_number="079095000002")
    body = protocol.batch_to_json([at_limit], datetime.now(UTC))
    body["events"][0][name] = "x" * limit
    assert _post(env, body) == 200
    with env.engine.connect() as conn:
        assert conn.execute(select(events.c[name])).scalar_one() == "x" * limit
    body = protocol.batch_to_json([over], datetime.now(UTC))
    body["events"][0][name] = "y" * (limit + 1)
    answer = env.client.post(protocol.EVENTS_PATH, json=body, headers=env.headers())
    assert answer.status_code == 200  # refused alone, with its reason (issue 11 #6), never truncated
    (result,) = protocol.decode_batch_result(answer.content).results
    assert (result.status, result.reason) == ("refused", f"{name}: longer than {limit} characters")
    assert env.stored() == [at_limit.uuid]


def test_models_use_the_protocol_limits() -> None:
    assert events.c.credential.type.length == protocol.FIELD_LIMITS["credential"]
    assert events.c.source.type.length == protocol.FIELD_LIMITS["source"]
