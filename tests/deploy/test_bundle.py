"""The offline bundle (scripts/bundle.sh) and upgrades over it: real archive, real pip, real venvs.

The bundle is built once for the module; its install.sh installs it into a fresh venv with no index and no pip
configuration, inside a network namespace with no network at all when this machine allows one (root). Then a
newer version (the same bundle with project/setup.cfg's version raised) is installed over it, and the kiosk's
database, configuration and enrolment are checked to be intact and in use."""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.demo import demo_people
from tests.support import required
from tests.support.media import write_video
from tests.support.paths import REPO_ROOT
from tests.support.required import unavailable
from tests.support.sync_servers import ImitationServer
from ui.service import UNIT_FILE

pytestmark = pytest.mark.slow
WHEEL_TAG = re.compile(r"-(cp3\d+|py3|py2\.py3)-(cp311|abi3|none)-(manylinux\S*_x86_64|any)\.whl$")


@dataclass
class Installed:
    bundle: Path  # the extracted bundle folder
    prefix: Path
    home: Path  # the kiosk account's home: config and events

    def kiosk(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "QRC_"))}
        env["HOME"] = str(self.home)
        done = subprocess.run(
            [str(self.prefix / "venv" / "bin" / "kiosk"), *args], capture_output=True, text=True, env=env, timeout=120
        )
        if check:
            assert done.returncode == 0, f"kiosk {' '.join(args)}: {done.stderr}"
        return done


def offline() -> list[str]:
    """A prefix that runs a command without any network (a new network namespace), when this machine can."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", "--"]
    return []


def run_install(bundle: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else "python3"  # Debian's own, as on a kiosk
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(PYTHON=python, PIP_FIND_LINKS="/nonexistent")  # install.sh must ignore this machine's pip settings
    command = [*offline(), str(bundle / "install.sh"), "--no-apt", "--prefix", str(prefix), "--bin-dir", ""]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "bundle.sh"), str(out)], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (found,) = out.glob("qr-checkpoint-*-bundle.tar.gz")
    return found


@pytest.fixture(scope="module")
def installed(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("kiosk-pc")
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="tar")
    (bundle,) = root.glob("qr-checkpoint-*")
    # /opt of the "PC": outside pytest's private tmp so that an unprivileged account can run it (the cage test)
    prefix = Path(tempfile.mkdtemp(prefix="qrc-opt-", dir="/tmp"))
    prefix.chmod(0o755)
    try:
        done = run_install(bundle, prefix)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        (root / "home").mkdir()
        yield Installed(bundle, prefix, root / "home")
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def test_the_archive_holds_the_project_wheels_and_package_list(archive: Path) -> None:
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        listed = tar.extractfile(f"{top}/debian-packages.txt").read().decode()  # type: ignore[union-attr]
        lock = tar.extractfile(f"{top}/requirements.lock").read().decode()  # type: ignore[union-attr]
    wheels = [Path(n).name for n in names if n.startswith(f"{top}/wheels/")]
    assert listed == (REPO_ROOT / "scripts" / "debian-packages.txt").read_text()
    assert f"{top}/install.sh" in names and f"{top}/project/setup.cfg" in names and f"{top}/SHA256SUMS" in names
    assert any(w.startswith("qr_checkpoint-") for w in wheels) and any(
        w.startswith("pyside6_essentials") for w in wheels
    )
    assert [w for w in wheels if not WHEEL_TAG.search(w)] == []  # Debian 12 x86-64, CPython 3.11 only
    pinned = {line.split("==")[0] for line in lock.splitlines() if line[:1].isalnum()}
    assert "--hash=sha256:" in lock and {"pyside6-essentials", "fastapi"} <= pinned  # the station and the server
    assert not {"pytest", "mypy", "selenium"} & pinned  # without the test tools


def test_installs_offline_into_a_fresh_venv_and_runs(installed: Installed) -> None:
    assert "install-service" in installed.kiosk("--help").stdout
    server = subprocess.run(
        [str(installed.prefix / "venv" / "bin" / "kiosk-server"), "--help"], capture_output=True, text=True
    )
    assert server.returncode == 0 and "serve" in server.stdout
    listed = subprocess.run(
        [str(installed.prefix / "venv" / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )
    packages = {re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"] for p in json.loads(listed.stdout)}
    assert packages["pyside6-essentials"] == "6.12.0" and "pytest" not in packages  # the lock's pins, no test tools


def test_a_newer_version_over_an_old_one_keeps_the_database_and_configuration(
    installed: Installed, tmp_path: Path
) -> None:
    people = demo_people(2, seed=3)
    video = write_video(tmp_path / "visitors.avi", [(None, 0.5), (people[0].payload, 1.5), (None, 1.5)])
    with ImitationServer(tmp_path / "server.sqlite3") as server:
        installed.kiosk("enroll", "--server", server.url, "--code", server.enroll_code)
        server.token = server.issued_token  # the imitation accepts the token it issued from now on
        installed.kiosk("scan", "--source", str(video), "--start-time", "2026-11-25T08:00:00+07:00")
        assert "pending events: 1" in installed.kiosk("sync", "--status").stdout
        config_before = sorted(p.read_text() for p in installed.home.rglob("*.toml"))
        assert config_before and any(server.url in text for text in config_before)

        newer = tmp_path / "newer-bundle"
        shutil.copytree(installed.bundle, newer, symlinks=True)
        cfg = newer / "project" / "setup.cfg"
        cfg.write_text(cfg.read_text().replace("version = 0.1.0", "version = 0.1.1", 1))
        done = run_install(newer, installed.prefix)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "install: done (0.1.1)" in done.stdout

        assert sorted(p.read_text() for p in installed.home.rglob("*.toml")) == config_before
        assert "pending events: 1" in installed.kiosk("sync", "--status").stdout
        again = installed.kiosk("scan", "--source", str(video), "--start-time", "2026-11-25T09:00:00+07:00", "--json")
        assert [json.loads(line)["decision"] for line in again.stdout.splitlines()] == ["exit"]  # saw the entry
        installed.kiosk("sync", "--once")  # the old enrolment still works after the upgrade
        assert len(server.stored_uuids()) == 2


def test_a_store_of_an_older_schema_is_migrated_by_the_installed_version(installed: Installed, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from kiosk.store.migrations import MIGRATIONS

    db = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:  # a kiosk's database as version 2 wrote it, the frozen DDL applied in order
        conn.connection.create_function("kiosk_fold", 1, str.lower)
        for migration in MIGRATIONS[:2]:
            migration(conn)
        conn.exec_driver_sql("PRAGMA user_version = 2")
        conn.exec_driver_sql(
            "INSERT INTO events (uuid, direction, credential, person_key, id_number, full_name, wall_time_us,"
            " monotonic_ns, source) VALUES ('u-1', 'entry', 'cccd', 'k1', '079095000001', 'An', 1, 1, 'camera')"
        )
        conn.exec_driver_sql("INSERT INTO outbox (seq, state, updated_at_us) VALUES (1, 'pending', 1)")
    engine.dispose()
    status = installed.kiosk("sync", "--status", "--db", str(db))
    assert "pending events: 1" in status.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT uuid FROM events").fetchall() == [("u-1",)]
        assert conn.execute("SELECT state FROM outbox").fetchall() == [("pending",)]


def test_the_units_whole_exec_start_runs_the_installed_station_in_cage(installed: Installed, tmp_path: Path) -> None:
    """The service's command line verbatim, cage included, as an unprivileged account: cage on wlroots' headless
    backend stands in for the screen; READY=1 and the watchdog pings reach NOTIFY_SOCKET from the station, cage's
    child; and when the station dies, cage ends too (what Restart=always then restarts)."""
    if os.geteuid() != 0:
        pytest.skip("cage refuses to run as root, and switching to another account (runuser) needs root")
    for binary in ("cage", "Xwayland", "runuser"):
        if shutil.which(binary) is None:
            unavailable(required.DEPLOY_TOOLS, f"{binary} is not installed (scripts/debian-packages.txt)")
    run = Path(tempfile.mkdtemp(prefix="qrc-cage-", dir="/tmp"))  # the account's XDG_RUNTIME_DIR and home
    try:
        shutil.chown(run, "nobody")
        config = run / "config.toml"
        config.write_text(f'[camera]\nsource = "demo"\n[store]\ndb_path = "{run / "events.sqlite3"}"\n')
        shutil.chown(config, "nobody")
        installed.kiosk("install-service", "--root", str(tmp_path), "--config", str(config))
        unit = dict(
            line.split("=", 1) for line in (tmp_path / UNIT_FILE).read_text().splitlines() if line[:1].isalpha()
        )
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(run / "notify.sock"))
        (run / "notify.sock").chmod(0o666)
        env = dict(word.split("=", 1) for word in shlex.split(unit["Environment"]))
        env.update(
            HOME=str(run),
            XDG_RUNTIME_DIR=str(run),
            PATH="/usr/bin:/bin",
            NOTIFY_SOCKET=str(run / "notify.sock"),
            WATCHDOG_USEC="1000000",
            WLR_BACKENDS="headless",
            WLR_RENDERER="pixman",
            WLR_LIBINPUT_NO_DEVICES="1",
        )
        command = ["runuser", "-u", "nobody", "--", "env", "-i", *(f"{k}={v}" for k, v in env.items())]
        cage = subprocess.Popen(
            [*command, *shlex.split(unit["ExecStart"])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            messages = _notifications(sock, until=lambda m: m.count("WATCHDOG=1") >= 2, timeout=120)
            assert messages and messages[0].startswith("READY=1"), messages
            station_pid = int(messages[0].rsplit("pid ", 1)[1].rstrip(")"))
            os.kill(station_pid, signal.SIGKILL)  # the station crashes ...
            assert cage.wait(timeout=20) is not None  # ... and cage ends with it: systemd restarts the service
        finally:
            if cage.poll() is None:
                os.killpg(cage.pid, signal.SIGKILL)
                cage.wait()
            sock.close()
    finally:
        shutil.rmtree(run, ignore_errors=True)


def _notifications(sock: socket.socket, until: Callable[[list[str]], bool], timeout: float) -> list[str]:
    messages: list[str] = []
    deadline = time.monotonic() + timeout
    while not until(messages) and time.monotonic() < deadline:
        if select.select([sock], [], [], 1.0)[0]:
            messages.append(sock.recv(4096).decode())
    return messages
