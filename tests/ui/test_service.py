"""`kiosk install-service` / `uninstall-service` and the station's systemd notifications.

systemd itself cannot run here, so: the files are written into a --root with their modes and removed again; the
unit passes `systemd-analyze verify`; and the unit's own ExecStart command (after cage's part) starts the station
under a real Xvfb, sending READY=1 and WATCHDOG=1 to a real unix datagram socket given as NOTIFY_SOCKET."""

from __future__ import annotations

import os
import select
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import required
from tests.support.required import unavailable
from ui.service import JOURNALD_FILE, PAM_FILE, UNIT_FILE

KIOSK = [sys.executable, "-m", "kiosk"]


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KIOSK, *args], capture_output=True, text=True, timeout=60)


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        unavailable(required.DEPLOY_TOOLS, f"{name} is not installed (scripts/setup.sh --test)")
    return found


def unit_lines(root: Path) -> dict[str, str]:
    text = (root / UNIT_FILE).read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def test_install_writes_its_files_with_modes_and_uninstall_removes_them(tmp_path: Path) -> None:
    config = tmp_path / "station config.toml"  # a space: ExecStart must quote it
    done = kiosk("install-service", "--root", str(tmp_path), "--user", "door", "--config", str(config))
    assert done.returncode == 0, done.stderr
    for path in (UNIT_FILE, PAM_FILE, JOURNALD_FILE):
        target = tmp_path / path
        assert stat.S_IMODE(target.stat().st_mode) == 0o644, path
        assert str(target) in done.stdout
    unit = unit_lines(tmp_path)
    assert unit["Type"] == "notify" and unit["NotifyAccess"] == "all" and unit["Restart"] == "always"
    assert int(unit["WatchdogSec"]) > 0 and unit["User"] == "door" and unit["StandardOutput"] == "journal"
    assert unit["LogRateLimitBurst"] and unit["LogRateLimitIntervalSec"]
    words = shlex.split(unit["ExecStart"])
    assert Path(words[0]).name == "cage" and words[words.index("--") + 1 :][1:] == ["station", "--config", str(config)]
    assert "SystemMaxUse=" in (tmp_path / JOURNALD_FILE).read_text()
    assert "pam_systemd.so" in (tmp_path / PAM_FILE).read_text()

    removed = kiosk("uninstall-service", "--root", str(tmp_path))
    assert removed.returncode == 0, removed.stderr
    assert not any((tmp_path / path).exists() for path in (UNIT_FILE, PAM_FILE, JOURNALD_FILE))


def test_dry_run_writes_nothing_and_says_what_it_would_do(tmp_path: Path) -> None:
    done = kiosk("install-service", "--root", str(tmp_path), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert f"would write {tmp_path / UNIT_FILE}" in done.stdout and "Type=notify" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_installing_for_real_needs_root_and_says_so(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: this would install the service on this machine")
    done = kiosk("install-service")
    assert done.returncode != 0 and "root" in done.stderr and "Traceback" not in done.stderr


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    tool("cage")  # verify resolves ExecStart's binary; the kiosk PC installs cage from debian-packages.txt
    assert kiosk("install-service", "--root", str(tmp_path)).returncode == 0
    unit = tmp_path / UNIT_FILE
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    # the check can fail: a misspelt key in the same unit is reported
    unit.write_text(unit.read_text().replace("Restart=always", "Restartt=always"))
    bad = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert "Restartt" in bad.stderr


# --- the ExecStart command under a real X server --------------------------------------------------------------


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A real Xvfb on a free display number (it reports the number through -displayfd)."""
    binary = tool("Xvfb")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [binary, "-displayfd", str(write_end), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not start"
    try:
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def receive(sock: socket.socket, deadline: float) -> str | None:
    timeout = deadline - time.monotonic()
    if timeout <= 0 or not select.select([sock], [], [], timeout)[0]:
        return None
    return sock.recv(4096).decode()


@pytest.mark.slow
def test_exec_start_runs_the_station_under_xvfb_and_notifies_systemd(tmp_path: Path, xvfb: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[camera]\nsource = "demo"\n[store]\ndb_path = "{tmp_path / "events.sqlite3"}"\n')
    assert kiosk("install-service", "--root", str(tmp_path / "root"), "--config", str(config)).returncode == 0
    words = shlex.split(unit_lines(tmp_path / "root")["ExecStart"])
    station = words[words.index("--") + 1 :]  # what cage would run: the station command, verbatim
    notify_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    # The unit asks Qt for Wayland (cage); on Xvfb the same command draws through xcb.
    env.update(DISPLAY=xvfb, QT_QPA_PLATFORM="xcb", NOTIFY_SOCKET=str(notify_path), WATCHDOG_USEC="600000")
    env["HOME"] = str(tmp_path)
    process = subprocess.Popen(station, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        messages = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(m == "WATCHDOG=1" for m in messages) < 3:
            message = receive(sock, deadline)
            if message is None:
                break
            messages.append(message)
        assert messages and messages[0].startswith("READY=1"), (messages, process.poll())
        assert messages.count("WATCHDOG=1") >= 3
        # A stopped (hung) process pings no more: what makes systemd's watchdog restart it.
        process.send_signal(signal.SIGSTOP)
        time.sleep(0.2)
        while receive(sock, time.monotonic() + 0.05) is not None:
            pass
        assert receive(sock, time.monotonic() + 1.5) is None
        process.send_signal(signal.SIGCONT)
        assert receive(sock, time.monotonic() + 5) == "WATCHDOG=1"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err[-2000:]
        rest = []
        while (message := receive(sock, time.monotonic() + 0.5)) is not None:
            rest.append(message)
        assert "STOPPING=1" in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        sock.close()
