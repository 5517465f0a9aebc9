"""`kiosk-server` as operators run it: exact commands, last-line outputs, one-line errors, safe CSV."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.events import Direction
from server import admin
from server.auth import Principal
from server.db import open_database
from server.ingest import ingest
from sync import protocol, protocol_pull
from tests.support.paths import REPO_ROOT
from tests.support.server_env import make_event

ROOT = REPO_ROOT


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_venue_kiosk_user_commands(server_db_url: str, tmp_path: Path) -> None:
    venue_id = last_line(cli("venue", "add", "--db", server_db_url, "--name", "Nhà hàng Sen Vàng"))
    assert venue_id.isdigit()
    code = last_line(
        cli(
            "kiosk",
            "add",
            "--db",
            server_db_url,
            "--venue",
            venue_id,
            "--qr",
            str(tmp_path / "e.png"),
            "--server-url",
            "https://checkin.example.vn",
        )
    )
    assert len(code) == 16 and code.isalnum()
    engine = open_database(server_db_url)
    enrolled = admin.enroll(engine, code, datetime.now(UTC))
    assert enrolled is not None and enrolled.venue_id == venue_id
    assert admin.enroll(engine, code, datetime.now(UTC)) is None  # one time only

    import zxingcpp
    from PIL import Image

    decoded = zxingcpp.read_barcodes(Image.open(tmp_path / "e.png"))
    assert protocol_pull.parse_enrollment_qr(decoded[0].text) == (code, "https://checkin.example.vn")

    token = last_line(cli("user", "add", "--db", server_db_url, "--role", "manager", "--venue", venue_id))
    assert token.startswith("qrck_man_")
    listing = cli("venue", "list", "--db", server_db_url)
    assert "Nhà hàng Sen Vàng" in listing.stdout
    assert cli("venue", "safety", "--db", server_db_url, "--venue", venue_id, "--level", "green").returncode == 0
    shown = json.loads(cli("venue", "show", "--db", server_db_url, "--venue", venue_id).stdout)
    assert shown["safety"]["level"] == "green" and shown["kiosks"][0]["enrolled"] is True
    engine.dispose()


def _seed(db_url: str) -> int:
    engine = open_database(db_url)
    venue_id = admin.add_venue(engine, "Chợ Bến Thành")
    kiosk_id, _ = admin.add_kiosk(engine, venue_id)
    base = datetime(2021, 9, 1, 10, tzinfo=UTC)
    events = (
        make_event("079095000001", wall_time=base, name="Trần Thị Bích"),
        make_event("079095000001", Direction.EXIT, wall_time=base + timedelta(hours=1), name="Trần Thị Bích"),
        make_event("079095000002", wall_time=base + timedelta(minutes=30), name="=cmd|' /C calc'!A0"),
        make_event("079095000003", wall_time=base + timedelta(hours=5), name="@SUM(1+1)"),
    )
    now = datetime.now(UTC)
    ingest(engine, protocol.Batch(kiosk_time=now, events=events), Principal("kiosk", venue_id, kiosk_id), now)
    engine.dispose()
    return venue_id


def test_export_is_spreadsheet_safe(server_db_url: str, tmp_path: Path) -> None:
    venue_id = _seed(server_db_url)
    out = tmp_path / "export.csv"
    result = cli("export", "--db", server_db_url, "--venue", str(venue_id), "--csv", str(out))
    assert result.returncode == 0, result.stderr
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert (
        list(rows[0])[:7] == ["time", "direction", "credential", "id_number", "full_name", "date_of_birth", "source"]
        and "kiosk" in rows[0]
    )
    assert [r["direction"] for r in rows] == ["entry", "entry", "exit", "entry"]  # time order
    names = {r["full_name"] for r in rows}
    assert "Trần Thị Bích" in names and "'=cmd|' /C calc'!A0" in names and "'@SUM(1+1)" in names
    assert not any(cell.startswith(("=", "@", "+", "-")) for r in rows for cell in r.values() if cell)


def test_trace_command_json_and_csv(server_db_url: str, tmp_path: Path) -> None:
    _seed(server_db_url)
    out = tmp_path / "trace.csv"
    result = cli(
        "trace",
        "--db",
        server_db_url,
        "--id-number",
        "079095000001",
        "--from",
        "2021-09-01T00:00:00+07:00",
        "--to",
        "2021-09-02T00:00:00+07:00",
        "--csv",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    contacts = [c["id_number"] for v in report["visits"] for c in v["contacts"]]
    assert contacts == ["079095000002"]  # 079095000003 came 4 h after the subject left
    text = out.read_text(encoding="utf-8-sig")
    assert "'=cmd" in text and "\n=" not in text


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("venue", "add", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "--name", "x"),
            "cannot use database",
        ),
        (("venue", "add", "--db", "mysql://x@y/z", "--name", "x"), "unsupported database"),
        (("venue", "add", "--db", "sqlite:////no/such/dir/x.db", "--name", "x"), "does not exist"),
        (("kiosk", "add", "--db", "DB", "--venue", "9999"), "no venue with id 9999"),
        (("export", "--db", "DB", "--venue", "9999", "--csv", "OUT"), "no venue with id 9999"),
        (("user", "add", "--db", "DB", "--role", "manager"), "needs --venue"),
        (("trace", "--db", "DB", "--id-number", "1", "--from", "2021-09-02", "--to", "2021-09-01"), "after 'from'"),
        (("trace", "--db", "DB", "--id-number", "1", "--from", "yesterday", "--to", "2021-09-01"), "not an ISO 8601"),
        (("venue", "add", "--db", "DB"), "required: --name"),
    ],
)
def test_errors_are_one_line_without_traceback(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    args = tuple(db if a == "DB" else str(tmp_path / "o.csv") if a == "OUT" else a for a in args)
    result = cli(*args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr, result.stderr


def test_migrations_are_idempotent_and_shipped_in_code(tmp_path: Path) -> None:
    from sqlalchemy import inspect, text

    from server import db

    url = f"sqlite:///{tmp_path / 'm.db'}"
    for _ in range(2):
        db._migrated.discard(url)
        db.migrate(db.make_engine(url))
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(db.alembic_config(None)).get_current_head()  # whatever its name
    engine = db.make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
    tables = set(inspect(engine).get_table_names())
    assert {"events", "venues", "kiosks", "tokens", "signing_keys", "persons", "declarations"} <= tables
    assert "signing_private_keys" not in tables  # private halves are columns of signing_keys
    events_pk = inspect(engine).get_pk_constraint("events")["constrained_columns"]
    assert events_pk == ["venue_id", "uuid"]  # the venue is in the key: distributable by venue


def test_serve_on_a_busy_port_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = cli("serve", "--db", f"sqlite:///{tmp_path / 's.db'}", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"kiosk-server: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_purge_deletes_only_old_events(server_db_url: str) -> None:
    venue_id = _seed(server_db_url)  # four events on 2021-09-01, from 10:00 to 15:00 UTC
    assert last_line(cli("purge", "--db", server_db_url, "--before", "2021-09-01T10:45:00Z")) == "2"
    assert last_line(cli("purge", "--db", server_db_url, "--before", "2021-09-01T10:45:00Z")) == "0"
    assert last_line(cli("purge", "--db", server_db_url, "--older-than-days", "1", "--venue", str(venue_id))) == "2"
    assert "no venue" in cli("purge", "--db", server_db_url, "--older-than-days", "1", "--venue", "9999").stderr


def test_commands_started_together_migrate_once(server_db_url: str) -> None:
    """Several processes meeting a fresh database at once (workers starting, or the README's `serve &` and the
    `venue add` after it): PostgreSQL's advisory lock or SQLite's write lock serialises them."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "server.cli", "venue", "add", "--db", server_db_url, "--name", f"V{i}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], [err for _, err in outputs]
    assert sorted(int(out.strip().splitlines()[-1]) for out, _ in outputs) == [1, 2, 3, 4]
