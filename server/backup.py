"""`kiosk-server backup --db URL --out FILE` and `kiosk-server restore --db URL --in FILE [--replace]`.

PostgreSQL: `pg_dump -Fc` (a consistent snapshot while the server keeps running; partitions included) and
pg_restore's script run by `psql --single-transaction` after emptying the schema (all or nothing).
SQLite: the online backup API (a consistent copy while kiosks keep syncing). A backup holds personal data: the file is made 0600, written next
to its name and renamed only once complete (a cron job that dies leaves no half file under the name).
A restore replaces what the database holds: it refuses a database that already has events unless --replace.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from server import admin
from server.cli_args import Subcommands, add_command
from server.db import make_engine, normalise_url, open_database

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore: on PATH, else the newest /usr/lib/postgresql/*/bin (Debian keeps them there)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: float(Path(p).parts[-3]))
    if not candidates:
        raise admin.Invalid(f"{name} not found: install postgresql-client")
    return candidates[-1]


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI for the tools, and the environment that carries the password (never on the command line)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _parsed(db: str) -> URL:
    return make_url(normalise_url(db))


def _private_temp(target: Path) -> Path:
    if not target.parent.is_dir():
        raise admin.Invalid(f"directory {target.parent} does not exist")
    temp = target.with_name(f".{target.name}.partial")
    temp.unlink(missing_ok=True)
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return temp


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise admin.Invalid(f"{what} failed: {lines[-1] if lines else f'exit {done.returncode}'}")


def backup(db: str, out: Path) -> int:
    """Write a backup of the database to `out`; returns its size in bytes."""
    url = _parsed(db)
    if url.get_backend_name() == "sqlite" and not Path(str(url.database)).is_file():
        raise admin.Invalid(f"no SQLite database at {url.database}")
    # No migration here: a backup may be taken from a read-only standby (pg_dump works there).
    temp = _private_temp(out)
    try:
        if url.get_backend_name() == "sqlite":
            with closing(sqlite3.connect(str(url.database))) as source, closing(sqlite3.connect(temp)) as copy:
                source.backup(copy)
        else:
            uri, env = _libpq(url)
            _run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(temp), "-d", uri], env, "pg_dump")
        temp.replace(out)
    finally:
        temp.unlink(missing_ok=True)
    return out.stat().st_size


def _has_events(db: str) -> bool:
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("events"):
                return False
            return conn.exec_driver_sql("SELECT 1 FROM events LIMIT 1").first() is not None
    finally:
        engine.dispose()


def restore(db: str, source: Path, *, replace: bool = False) -> None:
    """Replace the database's contents with the backup `source` (all or nothing)."""
    url = _parsed(db)
    try:
        head = source.open("rb").read(16)
    except OSError as exc:
        raise admin.Invalid(f"cannot read {source}: {exc.strerror}") from None
    sqlite = url.get_backend_name() == "sqlite"
    if not head.startswith(SQLITE_MAGIC if sqlite else PG_DUMP_MAGIC):
        kind = "a SQLite database" if sqlite else "a pg_dump -Fc archive"
        raise admin.Invalid(f"{source} is not {kind} (made by `kiosk-server backup` for this kind of database?)")
    if not replace and _has_events(db):
        raise admin.Invalid("the database already holds events: add --replace to overwrite it with the backup")
    if sqlite:
        make_engine(db).dispose()  # a new file is made 0600
        with closing(sqlite3.connect(source)) as backup_file, closing(sqlite3.connect(str(url.database))) as target:
            backup_file.backup(target)
        return
    _restore_postgresql(url, source)


# Not `pg_restore --clean`: it drops each partition's primary key one by one, and PostgreSQL refuses to drop the
# key a partition inherits (event_uuids, revision 0009). So the archive becomes a script, and psql runs it after
# emptying the schema, all in one transaction: a restore that fails changes nothing.
_EMPTY_SCHEMA = ("DROP SCHEMA public CASCADE", "CREATE SCHEMA public")


def _restore_postgresql(url: URL, source: Path) -> None:
    uri, env = _libpq(url)
    script = subprocess.Popen(
        [_pg_tool("pg_restore"), "--no-owner", "-f", "-", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    empty = [arg for statement in _EMPTY_SCHEMA for arg in ("-c", statement)]
    command = [_pg_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", *empty, "-f", "-"]
    applied = subprocess.run([*command, "-d", uri], stdin=script.stdout, capture_output=True, text=True, env=env)
    assert script.stdout is not None and script.stderr is not None
    script.stdout.close()
    made = script.wait()
    problem = script.stderr.read().decode(errors="replace").strip()
    script.stderr.close()
    if made != 0:
        raise admin.Invalid(f"pg_restore failed: {problem.splitlines()[-1] if problem else f'exit {made}'}")
    if applied.returncode != 0:
        lines = (applied.stderr or applied.stdout).strip().splitlines()
        raise admin.Invalid(f"restore failed: {lines[-1] if lines else f'exit {applied.returncode}'}")


def cmd_backup(args: argparse.Namespace) -> None:
    size = backup(args.db, Path(args.out))
    print(f"backup written: {args.out} ({size} bytes)")


def cmd_restore(args: argparse.Namespace) -> None:
    restore(args.db, Path(args.source), replace=args.replace)
    open_database(args.db).dispose()  # an older backup is migrated to this version's schema
    print(f"restored {args.source} into the database")


def register(sub: Subcommands) -> None:
    """Add `backup` and `restore` to the server's CLI."""
    backup_parser = add_command(sub, "backup", cmd_backup, "a consistent backup (pg_dump -Fc / SQLite backup API)")
    backup_parser.add_argument("--out", required=True, help="the backup file to write (made 0600)")
    restore_parser = add_command(sub, "restore", cmd_restore, "replace the database with a backup")
    restore_parser.add_argument("--in", dest="source", required=True, help="a file made by `kiosk-server backup`")
    restore_parser.add_argument("--replace", action="store_true", help="overwrite a database that holds events")
