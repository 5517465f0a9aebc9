"""Shared fixtures: a throwaway PostgreSQL cluster and a real central-server process.

Loaded for every test as a pytest plugin (`pytest_plugins` in tests/conftest.py).

- `pg_cluster` (session): an initdb'd cluster on a unix socket and a free port, listen_addresses=''; run as the
  `postgres` user when the tests run as root. Without an `initdb` under /usr/lib/postgresql/*/bin the tests
  that need it are skipped, or failed when QRC_REQUIRE_POSTGRES=1 (scripts/test.sh sets it).
- `pg_url` (function): a fresh, empty schema in that cluster (its own search_path), as a `postgresql+psycopg://`
  URL; `pg_cluster.create_database()` gives a whole database when a test needs one (~0.4 s).
- `sqlite_url` (function): a SQLite file in tmp_path.
- `server_db_url` (function, parametrised "sqlite" / "postgresql"): one of the two.
- `live_server` (function): a factory `live_server(db_url) -> LiveServer`, a `kiosk-server serve` subprocess on
  127.0.0.1 and a free port; stopped at teardown. LiveServer has `.url`, `.add_venue()`, `.add_kiosk()` (an
  enrolment code), `.enroll()` (a kiosk token), `.add_user()`, `.stored_uuids(venue_id)`, and `.kill()` /
  `.start()` for fault tests (same port, same database).

The cluster is tuned for speed (fsync off): it is thrown away. Benchmarks start their own with durability on.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import required
from tests.support.paths import REPO_ROOT
from tests.support.required import unavailable

REPO = REPO_ROOT


NO_POSTGRES = "PostgreSQL is not installed: no initdb under /usr/lib/postgresql/*/bin (apt-get install postgresql)"


def require_pg_bin() -> Path:
    """The PostgreSQL bin directory; skips the test without one, or fails it when QRC_REQUIRE_POSTGRES is set."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        unavailable(required.POSTGRES, NO_POSTGRES)
    return bin_dir


def find_pg_bin() -> Path | None:
    """The newest PostgreSQL bin directory that has initdb, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: float(Path(p).parts[-3]))
    found = candidates[-1] if candidates else shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    """A PostgreSQL cluster in a temporary directory, reachable only through a unix socket."""

    def __init__(self, bin_dir: Path, *, fast: bool = True, settings: dict[str, str] | None = None) -> None:
        self.bin_dir = bin_dir
        self.fast = fast
        self.settings = settings or {}
        self.root = Path(tempfile.mkdtemp(prefix="qrck-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        self.user = "postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.root, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> PgCluster:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            self.user,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.root}'",
            "port": str(self.port),
            "max_connections": "200",
            "shared_buffers": "256MB",
        }
        if self.fast:
            options.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        options.update(self.settings)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in options.items())
        self.resume()
        return self

    def pause(self) -> None:
        """Stop the PostgreSQL server but keep its data (fault tests: the database goes away)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start (again) the PostgreSQL server on the same data, socket and port."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@/{database}?host={self.root}&port={self.port}"

    def fresh_url(self) -> str:
        """A URL to a new, empty schema of the `postgres` database (search_path set through libpq `options`):
        ~10 ms, where CREATE DATABASE costs ~0.4 s. Tests get one each."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host=str(self.root), port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url()}&options=-csearch_path%3D{name}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host=str(self.root), port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


BULK_LOAD_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB", "checkpoint_timeout": "30min"}


def start_benchmark_cluster() -> PgCluster:
    """For benchmarks: a started cluster with a production server's durability (fsync, synchronous_commit on) and
    room for bulk loads; exits with a message when PostgreSQL is not installed."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        sys.exit("PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin)")
    cluster = PgCluster(bin_dir, fast=False, settings=BULK_LOAD_SETTINGS).start()
    print(f"PostgreSQL {bin_dir.parts[-2]} cluster at {cluster.root} (fsync on); {os.cpu_count()} CPUs")
    return cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster(require_pg_bin()).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    return pg_cluster.fresh_url()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'server.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def server_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.db'}"
    return request.getfixturevalue("pg_cluster").fresh_url()


# --- a real server process -----------------------------------------------------------------------------------------


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "server.cli", *args]


def run_server_cli(*args: str) -> str:
    """Run a `kiosk-server` command; returns its last stdout line (raises with its stderr on failure)."""
    result = subprocess.run(server_command(*args), capture_output=True, text=True, cwd=REPO, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"kiosk-server {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result.stdout.strip().splitlines()[-1]


@dataclass
class LiveServer:
    db_url: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    extra_args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        """Start (or restart) the server process and wait until it answers."""
        import httpx

        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            server_command(
                "serve",
                "--db",
                self.db_url,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                *self.extra_args,
            ),
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode} (log: {self.log_path})")
            try:
                if httpx.get(f"{self.url}/api/v1/time", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("server did not answer in time")

    def kill(self) -> None:
        """SIGKILL the server (fault tests); `start()` brings it back on the same port and database."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    # Administration goes straight to the database, as the operator's CLI would.
    def add_venue(self, name: str = "Test venue") -> int:
        from server import admin
        from server.db import open_database

        return admin.add_venue(open_database(self.db_url), name)

    def add_kiosk(self, venue_id: int) -> str:
        """A new kiosk of the venue; returns its one-time enrolment code."""
        from server import admin
        from server.db import open_database

        return admin.add_kiosk(open_database(self.db_url), venue_id)[1]

    def enroll(self, venue_id: int) -> str:
        """A new kiosk of the venue, enrolled over HTTP; returns its bearer token."""
        import httpx

        answer = httpx.post(f"{self.url}/api/v1/enroll", json={"code": self.add_kiosk(venue_id)}, timeout=10)
        answer.raise_for_status()
        return str(answer.json()["token"])

    def add_user(self, role: str, venue_id: int | None = None) -> str:
        from server import admin
        from server.db import open_database

        return admin.add_user(open_database(self.db_url), role, venue_id)

    def stored_uuids(self, venue_id: int | None = None) -> list[str]:
        """Every stored event uuid (of one venue, or all), with repeats if any: for exactly-once checks."""
        from sqlalchemy import select

        from server.db import open_database
        from server.models import events

        query = select(events.c.uuid)
        if venue_id is not None:
            query = query.where(events.c.venue_id == venue_id)
        engine = open_database(self.db_url)
        with engine.connect() as conn:
            return list(conn.execute(query).scalars())


def sqlite_server_for(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[LiveServer]:
    """A real server on a fresh SQLite file for a whole module (each test enrols its own kiosk)."""
    folder = tmp_path_factory.mktemp(name)
    live = LiveServer(f"sqlite:///{folder / 'server.db'}", log_path=folder / "server.log").start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(db_url: str | None = None, *extra_args: str) -> LiveServer:
        server = LiveServer(
            db_url or f"sqlite:///{tmp_path / 'server.db'}",
            extra_args=extra_args,
            log_path=tmp_path / f"server-{len(servers)}.log",
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
