"""`kiosk` / `kiosk --demo` start the station; without a display it says so in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.store import Store

KIOSK = [sys.executable, "-m", "kiosk"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(extra)
    return env


def test_without_a_display_one_line_and_non_zero(tmp_path: Path) -> None:
    done = subprocess.run(
        [*KIOSK, "--demo", "--db", str(tmp_path / "e.sqlite3")],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_demo_runs_and_logs_masked_decisions(tmp_path: Path) -> None:
    log_file = tmp_path / "station.log"
    db = tmp_path / "events.sqlite3"
    process = subprocess.Popen(
        [*KIOSK, "--demo", "--db", str(db), "--config", str(tmp_path / "c.toml"), "--log-file", str(log_file)],
        env=clean_env(QT_QPA_PLATFORM="offscreen"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (log_file.exists() and "entry" in log_file.read_text()):
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err[-2000:]
    decisions = [line for line in out.splitlines() if " entry " in line]
    assert decisions, out
    with Store.open(db) as store:
        events = list(store.events())
    assert events
    for event in events:  # full names and ID numbers never reach stdout or the log
        assert event.full_name not in out and event.id_number not in out
        assert event.full_name not in log_file.read_text() and event.id_number not in log_file.read_text()
    assert "name=" in decisions[0] and "id=••••" in decisions[0]


@pytest.mark.parametrize("size", ["abc", "1024", "0x600", "-5x600", "1024x", "x600", "1024x600x2"])
def test_bad_window_size_is_refused_before_any_window(tmp_path: Path, size: str) -> None:
    """Checked by argparse: exit 2 and one error line, even with a display at hand (offscreen)."""
    done = subprocess.run(
        [*KIOSK, "station", "--demo", f"--size={size}", "--db", str(tmp_path / "e.sqlite3")],
        env=clean_env(QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "--size" in errors[0] and "WIDTHxHEIGHT" in errors[0]
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert not (tmp_path / "e.sqlite3").exists()  # refused before the station opened anything


def test_window_size_parses_width_and_height() -> None:
    from ui.cli import window_size

    assert window_size("1024x600") == (1024, 600)
    assert window_size(" 800X480 ") == (800, 480)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"QT_QPA_PLATFORM": "xcb"}, False),  # xcb needs an X display: Qt would abort
        ({"QT_QPA_PLATFORM": "wayland"}, False),
        ({"QT_QPA_PLATFORM": "offscreen"}, True),
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, True),
        ({"QT_QPA_PLATFORM": "xcb;offscreen"}, True),
        ({"QT_QPA_PLATFORM": "minimal"}, True),
        ({"DISPLAY": ":0"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, True),
    ],
)
def test_has_display_counts_only_platforms_that_need_no_display(env: dict[str, str], expected: bool) -> None:
    from ui.app import has_display

    assert has_display(env) is expected


def test_xcb_without_an_x_display_is_the_one_line_no_display_message(tmp_path: Path) -> None:
    done = subprocess.run(
        [*KIOSK, "--demo", "--db", str(tmp_path / "e.sqlite3")],
        env=clean_env(QT_QPA_PLATFORM="xcb"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0]


def test_station_reads_config_and_db_through_the_shared_loader() -> None:
    """ui/cli.py must not re-implement kiosk.cli.load_settings_from_args (one place decides --config/--db)."""
    import inspect

    import ui.cli

    source = inspect.getsource(ui.cli.run_station)
    assert "load_settings_from_args(args)" in source and "load_settings(" not in source.replace(
        "load_settings_from_args(", ""
    )
