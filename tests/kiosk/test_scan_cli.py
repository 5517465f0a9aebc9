"""`kiosk scan` and `kiosk export` end to end: a generated video of visitors -> decisions -> CSV."""

from __future__ import annotations

import csv
import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.demo import demo_people
from tests.support.media import write_video

START = "2026-11-25T08:00:00+07:00"


def kiosk(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"kiosk {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def decisions(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def people():
    return demo_people(3, seed=7)


@pytest.fixture(scope="module")
def visitors_video(tmp_path_factory, people) -> Path:
    a, b, c = people
    script = [
        (None, 0.5),
        (a.payload, 1.5),
        (None, 2.0),
        (b.payload, 1.5),
        (None, 2.0),
        (a.payload, 1.5),
        (None, 2.0),
        ("https://example.com/menu", 1.5),
        (None, 2.0),
        (c.payload, 1.5),
        (None, 0.5),
    ]
    return write_video(tmp_path_factory.mktemp("video") / "visitors.avi", script)


def test_scan_decides_and_records_each_visitor(tmp_path, visitors_video, people):
    db = tmp_path / "events.sqlite3"
    result = kiosk("scan", "--source", str(visitors_video), "--db", str(db), "--start-time", START, "--json")
    got = decisions(result.stdout)
    a, b, c = people
    assert [(d["decision"], d["id_number"]) for d in got] == [
        ("entry", a.id_number),
        ("entry", b.id_number),
        ("duplicate", a.id_number),
        ("rejected", ""),
        ("entry", c.id_number),
    ]
    assert all(d["time"].startswith("2026-11-25T08:00") and d["time"].endswith("+07:00") for d in got)
    assert got[0]["credential"] == "cccd" and got[0]["full_name"] == a.full_name
    assert got[0]["date_of_birth"] == a.date_of_birth.isoformat()
    assert got[3]["credential"] == "unknown" and got[3]["reason"]
    assert "previous_time" in got[2]
    with sqlite3.connect(db) as connection:
        assert connection.execute("select count(*) from events").fetchone()[0] == 3


def test_second_pass_after_the_cooldown_checks_everyone_out(tmp_path, visitors_video, people):
    db = tmp_path / "events.sqlite3"
    kiosk("scan", "--source", str(visitors_video), "--db", str(db), "--start-time", START)
    later = "2026-11-25T17:00:00+07:00"
    got = decisions(
        kiosk("scan", "--source", str(visitors_video), "--db", str(db), "--start-time", later, "--json").stdout
    )
    assert [d["decision"] for d in got] == ["exit", "exit", "duplicate", "rejected", "exit"]


def test_mode_entry_and_export_keeps_vietnamese_names(tmp_path, visitors_video, people):
    db, out = tmp_path / "events.sqlite3", tmp_path / "out.csv"
    kiosk("scan", "--source", str(visitors_video), "--db", str(db), "--start-time", START, "--mode", "entry")
    kiosk("export", "--db", str(db), "--csv", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert {"time", "direction", "credential", "id_number", "full_name", "date_of_birth"} <= set(rows[0])
    assert [row["full_name"] for row in rows] == [people[0].full_name, people[1].full_name, people[2].full_name]
    assert rows[0]["date_of_birth"] == people[0].date_of_birth.isoformat()
    assert rows[0]["time"].endswith("+07:00") and rows[0]["direction"] == "entry"


def test_export_time_window(tmp_path, visitors_video):
    db, out = tmp_path / "events.sqlite3", tmp_path / "out.csv"
    kiosk("scan", "--source", str(visitors_video), "--db", str(db), "--start-time", START)
    kiosk(
        "export",
        "--db",
        str(db),
        "--csv",
        str(out),
        "--from",
        "2026-11-25T08:00:03+07:00",
        "--to",
        "2026-11-25T08:00:12+07:00",
    )
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 1  # only the second visitor entered in that window


def test_decode_prints_text_points_and_fields(tmp_path, people):
    import cv2

    from tests.support.media import frame_with_code

    image = tmp_path / "card.png"
    cv2.imwrite(str(image), frame_with_code(people[0].payload, box_size=4))
    got = decisions(kiosk("decode", str(image)).stdout)
    assert len(got) == 1
    assert got[0]["file"] == str(image) and got[0]["text"] == people[0].payload
    assert got[0]["credential"] == "cccd" and got[0]["full_name"] == people[0].full_name
    assert len(got[0]["points"]) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "--source", "/nonexistent/video.avi"], "video.avi"),
        (["scan", "--source", "CORRUPT"], "CORRUPT"),
        (["scan", "--source", "demo", "--db", "/proc/events.sqlite3"], "/proc/events.sqlite3"),
        (["decode", "/nonexistent/card.png"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(tmp_path, args, message):
    corrupt = tmp_path / "corrupt.avi"
    corrupt.write_bytes(random.Random(1).randbytes(5000))
    args = [str(corrupt) if a == "CORRUPT" else a for a in args]
    message = corrupt.name if message == "CORRUPT" else message
    result = kiosk(*args, check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_config_typo_is_one_line(tmp_path, visitors_video):
    config = tmp_path / "bad.toml"
    config.write_text("[station]\ncooldown = 5\n")
    result = kiosk("scan", "--source", str(visitors_video), "--config", str(config), check=False)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "kiosk: error: station.cooldown: unknown setting (known: " + result.stderr.split("(known: ")[1].strip()
    )


def test_config_and_db_may_come_before_the_subcommand(tmp_path, visitors_video):
    db, config = tmp_path / "events.sqlite3", tmp_path / "kiosk.toml"
    config.write_text('[station]\nmode = "exit"\n')
    got = decisions(
        kiosk(
            "--config",
            str(config),
            "--db",
            str(db),
            "scan",
            "--source",
            str(visitors_video),
            "--start-time",
            START,
            "--json",
        ).stdout
    )
    assert got[0]["decision"] == "exit"
    assert db.exists()


def test_a_folder_of_stills_records_each_visitor(tmp_path, people):
    import cv2

    from tests.support.media import frame_with_code

    folder = tmp_path / "stills"
    folder.mkdir()
    for index, person in enumerate(people):
        cv2.imwrite(str(folder / f"{index:02d}.png"), frame_with_code(person.payload))
    got = decisions(
        kiosk(
            "scan", "--source", str(folder), "--db", str(tmp_path / "e.sqlite3"), "--start-time", START, "--json"
        ).stdout
    )
    assert [(d["decision"], d["id_number"]) for d in got] == [("entry", p.id_number) for p in people]


def test_export_refuses_a_database_that_does_not_exist(tmp_path):
    missing = tmp_path / "typo" / "evnts.sqlite3"
    result = kiosk("export", "--db", str(missing), "--csv", str(tmp_path / "out.csv"), check=False)
    assert result.returncode == 2 and "no such event database" in result.stderr
    assert not missing.parent.exists()


def test_doctor_judges_the_configured_source(tmp_path, visitors_video):
    db = str(tmp_path / "e.sqlite3")
    good = kiosk("doctor", "--db", db, "--probe-cameras", "0", check=False)
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[camera]\nsource = "{visitors_video}"\n')
    with_video = kiosk("doctor", "--db", db, "--config", str(config), "--probe-cameras", "0", check=False)
    assert with_video.returncode == 0 and "[ok] camera" in with_video.stdout, with_video.stdout
    if not Path("/dev/video0").exists():  # this machine has no webcam: the default source (0) fails
        assert good.returncode == 1 and "[FAIL] camera" in good.stdout


def test_decode_says_which_file_is_not_an_image_and_goes_on(tmp_path, people):
    import cv2

    from tests.support.media import frame_with_code

    not_image, card = tmp_path / "x.png", tmp_path / "card.png"
    not_image.write_text("hello")
    cv2.imwrite(str(card), frame_with_code(people[1].payload, box_size=4))
    result = kiosk("decode", str(not_image), str(card), check=False)
    assert result.returncode == 0  # it ran: a file that is not a picture is a verdict, like a code that is forged
    assert result.stderr.strip() == f"kiosk: {not_image}: not a readable image"
    assert [d["id_number"] for d in decisions(result.stdout)] == [people[1].id_number]


def test_times_without_an_offset_are_the_venues_local_time(tmp_path, visitors_video):
    got = decisions(
        kiosk(
            "scan",
            "--source",
            str(visitors_video),
            "--db",
            str(tmp_path / "e.sqlite3"),
            "--start-time",
            "2026-11-25T08:00:00",
            "--json",
        ).stdout
    )
    assert got[0]["time"].startswith("2026-11-25T08:00:0") and got[0]["time"].endswith("+07:00")
