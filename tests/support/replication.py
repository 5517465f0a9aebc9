"""A primary and a hot standby (streaming replication, synchronous) from the real PostgreSQL binaries.

- `replicated_primary(bin_dir)`: a PgCluster with wal_level=replica and synchronous_commit=on waiting for the
  standby named `standby1`: a commit (and so a kiosk's acknowledgement) returns once the standby has the WAL.
- `Standby(primary).start()`: `pg_basebackup -R -X stream` of the primary, its own socket and port, started as a
  hot standby; `.promote()` is `pg_ctl promote`; `.wait_streaming()` waits until the primary calls it `sync`.
- `kill_postmaster(cluster)`: SIGKILL to the postmaster and every backend: the machine is gone, no shutdown.
- `failover_url(primary, standby)`: one multi-host libpq URL, `target_session_attrs=read-write`.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from tests.support.postgres import PgCluster

STANDBY_NAME = "standby1"


def replicated_primary(bin_dir: Path) -> PgCluster:
    settings = {
        "wal_level": "replica",
        "max_wal_senders": "5",
        "synchronous_commit": "on",
        "synchronous_standby_names": f"'{STANDBY_NAME}'",
        "wal_sender_timeout": "5s",
    }
    return PgCluster(bin_dir, settings=settings)


class Standby(PgCluster):
    def __init__(self, primary: PgCluster) -> None:
        super().__init__(primary.bin_dir)
        self.primary = primary

    def start(self) -> Standby:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        source = ("-h", str(self.primary.root), "-p", str(self.primary.port), "-U", self.primary.user)
        self._run("pg_basebackup", "-D", str(self.data), *source, "-R", "-X", "stream", "-c", "fast")
        conninfo = (
            f"host={self.primary.root} port={self.primary.port} user={self.primary.user} "
            f"application_name={STANDBY_NAME}"
        )
        with open(self.data / "postgresql.auto.conf", "a") as conf:  # later lines win over -R's
            conf.write(f"port = {self.port}\nunix_socket_directories = '{self.root}'\nhot_standby = on\n")
            conf.write(f"primary_conninfo = '{conninfo}'\nwal_receiver_timeout = '5s'\n")
        self.resume()
        return self

    def promote(self) -> None:
        """`pg_ctl promote`, then stop waiting for a synchronous standby (the config came from the primary and
        names this machine's own old role): alone, the new primary would otherwise hang every commit. It runs
        on one machine until a new standby is attached (docs/server.md, failover)."""
        import psycopg

        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "promote")
        with psycopg.connect(host=str(self.root), port=self.port, user="postgres", autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = ''")
            conn.execute("SELECT pg_reload_conf()")

    def wait_streaming(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        with psycopg.connect(host=str(self.primary.root), port=self.primary.port, user="postgres") as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT sync_state FROM pg_stat_replication WHERE application_name = %s", (STANDBY_NAME,)
                ).fetchone()
                conn.commit()
                if row == ("sync",):
                    return
                time.sleep(0.1)
        raise RuntimeError("the standby did not start streaming synchronously in time")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def kill_postmaster(cluster: PgCluster) -> None:
    """SIGKILL the postmaster and its backends at once (nothing is flushed, nothing says goodbye)."""
    pid = int((cluster.data / "postmaster.pid").read_text().splitlines()[0])
    for each in [pid, *_children(pid)]:
        try:
            os.kill(each, signal.SIGKILL)
        except ProcessLookupError:
            pass


def failover_url(primary: PgCluster, standby: PgCluster, database: str = "postgres") -> str:
    return (
        f"postgresql+psycopg://{primary.user}@/{database}?host={primary.root},{standby.root}"
        f"&port={primary.port},{standby.port}&target_session_attrs=read-write"
    )
