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
    done = subprocess.run([*KIOSK, "--demo", "--db", str(tmp_path / "e.sqlite3")], env=clean_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_demo_runs_and_logs_masked_decisions(tmp_path: Path) -> None:
    log_file = tmp_path / "station.log"
    db = tmp_path / "events.sqlite3"
    process = subprocess.Popen([*KIOSK, "--demo", "--db", str(db), "--config", str(tmp_path / "c.toml"),
                                "--log-file", str(log_file)], env=clean_env(QT_QPA_PLATFORM="offscreen"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
