"""The whole story with real parts: a central server process, an enrolled kiosk, a person who declares on the
server and gets a signed QR, a video of visitors scanned by `kiosk scan`, sync, export and tracing on the server.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, date, datetime

import cv2
import pytest
import requests

from kiosk.demo import demo_people
from tests.support.media import qr_image, write_video
from tests.support.postgres import run_server_cli

pytestmark = pytest.mark.slow
START = "2026-11-25T09:00:00+07:00"


def kiosk(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"kiosk {args[0]} exited {done.returncode}: {done.stderr}"
    return done.stdout


def test_declare_enrol_scan_sync_trace(tmp_path, live_server):
    server = live_server()
    venue = server.add_venue("Nhà văn hóa Phường Bến Nghé")
    code = server.add_kiosk(venue)
    manager = {"Authorization": f"Bearer {server.add_user('manager', venue)}"}
    authority = {"Authorization": f"Bearer {server.add_user('authority')}"}
    api = server.url + "/api/v1"
    assert (
        requests.patch(
            f"{api}/venues/{venue}/config", json={"mode": "entry", "capacity": 50}, headers=manager, timeout=10
        ).status_code
        == 200
    )
    assert (
        requests.put(
            f"{api}/venues/{venue}/safety",
            json={"level": "yellow", "assessed_on": "2026-11-20"},
            headers=manager,
            timeout=10,
        ).status_code
        == 200
    )
    # `serve` made the signing key on its first start: one active key, ready to sign.
    assert "active" in run_server_cli("keys", "list", "--db", server.db_url)

    # A person declares on the server and gets a personal QR signed by the server's key.
    answers = dict.fromkeys(("fever", "cough", "breath", "throat", "taste_smell", "contact", "travel"), False)
    declared = requests.post(
        f"{api}/declarations",
        json={"full_name": "Lý Thu Nhung", "id_number": "079195001234", "phone": "0901234567", "answers": answers},
        timeout=10,
    )
    assert declared.status_code == 201, declared.text
    personal_qr = declared.json()["qr"]

    # The kiosk enrols, pulls its configuration and keys, then scans a video of two visitors.
    config, db = tmp_path / "kiosk.toml", tmp_path / "events.sqlite3"
    kiosk("enroll", "--server", server.url, "--code", code, "--config", str(config))
    kiosk("sync", "--once", "--config", str(config), "--db", str(db))
    visitor = demo_people(1, seed=21)[0]
    video = write_video(
        tmp_path / "door.avi", [(None, 0.5), (personal_qr, 1.5), (None, 2.0), (visitor.payload, 1.5), (None, 0.5)]
    )
    decisions = [
        json.loads(line)
        for line in kiosk(
            "scan", "--source", str(video), "--config", str(config), "--db", str(db), "--start-time", START, "--json"
        ).splitlines()
    ]
    assert [(d["decision"], d["credential"]) for d in decisions] == [("entry", "personal"), ("entry", "cccd")]
    assert decisions[0]["full_name"] == "Lý Thu Nhung"

    # `kiosk decode` verifies with what this kiosk pulled, by default; a kiosk that pulled nothing cannot.
    card = tmp_path / "card.png"
    cv2.imwrite(str(card), qr_image(personal_qr))
    pulled = json.loads(kiosk("decode", str(card), "--config", str(config), "--db", str(db)).splitlines()[0])
    assert pulled["credential"] == "personal" and pulled["signature"] == "valid"
    fresh = tmp_path / "fresh.sqlite3"
    unknown = json.loads(kiosk("decode", str(card), "--db", str(fresh)).splitlines()[0])
    assert unknown["signature"] == "unknown_key" and not fresh.exists()

    # The server's station settings reached the kiosk; the doctor sees the server and a valid token.
    doctor = subprocess.run(
        [sys.executable, "-m", "kiosk", "doctor", "--config", str(config), "--db", str(db), "--probe-cameras", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "[ok] server:" in doctor and "[ok] enrolment:" in doctor and "[ok] clock offset:" in doctor

    # Sync pushes both events; the server's export and a trace find them, names intact.
    kiosk("sync", "--once", "--config", str(config), "--db", str(db))
    export = tmp_path / "venue.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "export",
            "--db",
            server.db_url,
            "--venue",
            str(venue),
            "--csv",
            str(export),
        ],
        check=True,
        timeout=60,
    )
    rows = list(csv.DictReader(export.read_text(encoding="utf-8-sig").splitlines()))
    assert sorted(row["full_name"] for row in rows) == sorted(["Lý Thu Nhung", visitor.full_name])
    trace = requests.get(
        f"{api}/trace",
        params={"id_number": visitor.id_number, "from": "2026-11-25T00:00:00+07:00", "to": "2026-11-26T00:00:00+07:00"},
        headers=authority,
        timeout=10,
    )
    assert trace.status_code == 200, trace.text
    assert "Lý Thu Nhung" in json.dumps(trace.json(), ensure_ascii=False)


def test_server_settings_and_safety_level_reach_the_station(tmp_path, live_server):
    from kiosk.config import load_settings
    from kiosk.store import Store
    from sync.station_hooks import with_server_config

    server = live_server()
    venue = server.add_venue("Chợ Bến Thành")
    code = server.add_kiosk(venue)
    manager = {"Authorization": f"Bearer {server.add_user('manager', venue)}"}
    api = server.url + "/api/v1"
    requests.patch(
        f"{api}/venues/{venue}/config", json={"mode": "exit", "cooldown_seconds": 30}, headers=manager, timeout=10
    )
    requests.put(
        f"{api}/venues/{venue}/safety",
        json={"level": "orange", "assessed_on": "2026-11-21"},
        headers=manager,
        timeout=10,
    )
    config, db = tmp_path / "kiosk.toml", tmp_path / "events.sqlite3"
    kiosk("enroll", "--server", server.url, "--code", code, "--config", str(config))
    local = load_settings(config)
    assert local.station.mode == "auto"  # before any sync: the kiosk's own settings
    kiosk("sync", "--once", "--config", str(config), "--db", str(db))
    with Store.open(db) as store:
        settings = with_server_config(local, store)
    assert settings.station.mode == "exit" and settings.station.cooldown_seconds == 30
    assert settings.station.venue_name == "Chợ Bến Thành"
    assert (settings.station.safety_level, settings.station.safety_assessed_on) == ("orange", "2026-11-21")
    assert date.fromisoformat(settings.station.safety_assessed_on) <= datetime.now(UTC).date()


def test_trace_by_cccd_number_finds_a_personal_qr_visit(tmp_path, live_server):
    """She declared with her CCCD number and checked in with her personal QR (which carries only her person id):
    the health authority traces her by her CCCD number and finds that visit, and finds her under that number
    among the co-visitors of the person who came in after her."""
    server = live_server()
    venue = server.add_venue("Nhà văn hóa Phường Bến Nghé")
    code = server.add_kiosk(venue)
    authority = {"Authorization": f"Bearer {server.add_user('authority')}"}
    api = server.url + "/api/v1"
    assert "active" in run_server_cli("keys", "list", "--db", server.db_url)  # made by `serve` on its first start
    answers = dict.fromkeys(("fever", "cough", "breath", "throat", "taste_smell", "contact", "travel"), False)
    declared = requests.post(
        f"{api}/declarations",
        json={"full_name": "Lý Thu Nhung", "id_number": "079195001234", "answers": answers},
        timeout=10,
    )
    assert declared.status_code == 201, declared.text
    person_id = declared.json()["person_id"]

    config, db = tmp_path / "kiosk.toml", tmp_path / "events.sqlite3"
    kiosk("enroll", "--server", server.url, "--code", code, "--config", str(config))
    kiosk("sync", "--once", "--config", str(config), "--db", str(db))
    visitor = demo_people(1, seed=22)[0]
    video = write_video(
        tmp_path / "door.avi",
        [(None, 0.5), (declared.json()["qr"], 1.5), (None, 2.0), (visitor.payload, 1.5), (None, 0.5)],
    )
    decisions = [
        json.loads(line)
        for line in kiosk(
            "scan", "--source", str(video), "--config", str(config), "--db", str(db), "--start-time", START, "--json"
        ).splitlines()
    ]
    assert [d["credential"] for d in decisions] == ["personal", "cccd"]
    kiosk("sync", "--once", "--config", str(config), "--db", str(db))

    window = {"from": "2026-11-25T00:00:00+07:00", "to": "2026-11-26T00:00:00+07:00"}
    # A number typed on the public page is a claim (issue 11): staff saw her papers, so her QR counts as hers.
    run_server_cli("person", "resolve", "--db", server.db_url, "--person", person_id, "--as", "verified")
    mine = requests.get(f"{api}/trace", params={"id_number": "079195001234", **window}, headers=authority, timeout=10)
    assert mine.status_code == 200, mine.text
    visits = mine.json()["visits"]
    assert [(v["venue_id"], v["id_number"], v["full_name"]) for v in visits] == [
        (venue, "079195001234", "Lý Thu Nhung")
    ]
    assert [c["id_number"] for c in visits[0]["contacts"]] == [visitor.id_number]
    cli_report = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "server.cli",
                "trace",
                "--db",
                server.db_url,
                "--id-number",
                "079195001234",
                "--from",
                window["from"],
                "--to",
                window["to"],
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    )
    assert [v["venue_id"] for v in cli_report["visits"]] == [venue]

    theirs = requests.get(
        f"{api}/trace", params={"id_number": visitor.id_number, **window}, headers=authority, timeout=10
    ).json()
    assert {(c["id_number"], c["person_id"]) for v in theirs["visits"] for c in v["contacts"]} == {
        ("079195001234", person_id)
    }
