"""Engines, sessions and migrations. SQLite by default (no set-up), PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

MIGRATIONS = "server:migrations"  # package resource: works from an installed wheel too
_MIGRATION_LOCK_KEY = 7_264_190_311  # pg_advisory_lock id: several workers starting at once migrate once
_migrated: set[str] = set()
_migrate_lock = threading.Lock()


class DatabaseError(Exception):
    """A database URL that is wrong, a server that cannot be reached: a one-line message for the operator."""


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as psycopg 3; a bare path as a SQLite file."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return url


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for `url`; raises DatabaseError for a URL SQLAlchemy cannot use."""
    try:
        parsed = make_url(normalise_url(url))
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        if parsed.get_backend_name() != "postgresql":
            raise DatabaseError(
                f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://"
            )
        return create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10},
        )
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise DatabaseError(f"bad database URL: {exc}") from None


def _sqlite_engine(url) -> Engine:  # type: ignore[no-untyped-def]
    database = url.database
    if database and database != ":memory:":
        parent = Path(database).resolve().parent
        if not parent.is_dir():
            raise DatabaseError(f"cannot open SQLite database: directory {parent} does not exist")
        _create_private(Path(database))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across crashes of the process
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def _create_private(path: Path) -> None:
    """Create a new SQLite file as 0600: it holds personal data and, by default, the signing private key.
    SQLite gives its -wal and -shm files the database file's mode, so they are 0600 too."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # an existing database keeps the mode its operator gave it
    except OSError as exc:
        raise DatabaseError(f"cannot create SQLite database {path}: {exc.strerror}") from None
    os.close(fd)


def alembic_config(engine_connection) -> Config:  # type: ignore[no-untyped-def]
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = engine_connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; cheap when already there)."""
    key = str(engine.url)
    with _migrate_lock:
        if key in _migrated:
            return
        try:
            with engine.begin() as connection:
                _lock_for_migration(connection)
                command.upgrade(alembic_config(connection), "head")
        except (OperationalError, ProgrammingError) as exc:
            raise DatabaseError(f"cannot use database: {_first_line(exc)}") from None
        _migrated.add(key)


def _lock_for_migration(connection) -> None:  # type: ignore[no-untyped-def]
    """Hold the database's lock until the migration commits, so that processes started together (several workers,
    or `serve &` and a `venue add` right after it) migrate one after the other and the later ones find the schema
    made. SQLite would otherwise run each CREATE TABLE on its own, outside a transaction, and the second process
    would fail on "table venues already exists"."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock; the others wait out busy_timeout


def open_database(url: str, *, pool_size: int = 5) -> Engine:
    """make_engine + migrate: what `serve` and every CLI command start with."""
    engine = make_engine(url, pool_size=pool_size)
    migrate(engine)
    return engine


def _first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
