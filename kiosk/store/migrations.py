"""Schema versions, applied in order at open inside one write transaction.

The version lives in `PRAGMA user_version` (stored in the database header, so it commits or rolls back with the
migration). Each migration's DDL is frozen: never edit one that has shipped; append a new one instead."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from .errors import StoreError

# "QRK1": marks the file as ours, so that someone else's SQLite database is refused rather than migrated.
APPLICATION_ID = 0x51524B31


def _v1_events_outbox_state(conn: Connection) -> None:
    """Events (immutable), their outbox state, and the key/value state."""
    for sql in (
        f"PRAGMA application_id = {APPLICATION_ID}",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            uuid TEXT NOT NULL UNIQUE,
            direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
            credential TEXT NOT NULL,
            person_key TEXT NOT NULL,
            id_number TEXT NOT NULL,
            full_name TEXT NOT NULL,
            date_of_birth TEXT,
            wall_time_us INTEGER NOT NULL,
            monotonic_ns INTEGER NOT NULL,
            source TEXT NOT NULL,
            flags TEXT NOT NULL DEFAULT '[]',
            details TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX ix_events_wall_time ON events (wall_time_us)",
        "CREATE INDEX ix_events_person ON events (person_key, seq)",
        """CREATE TRIGGER events_immutable BEFORE UPDATE ON events
           BEGIN SELECT RAISE(ABORT, 'events are immutable'); END""",
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'acknowledged')),
            attempts INTEGER NOT NULL DEFAULT 0,
            updated_at_us INTEGER NOT NULL
        )""",
        # Partial indexes: acknowledged rows (nearly all of them) stay out of the indexes the sync client scans.
        "CREATE INDEX ix_outbox_pending ON outbox (seq) WHERE state = 'pending'",
        "CREATE INDEX ix_outbox_sent ON outbox (seq) WHERE state = 'sent'",
        """CREATE TABLE kv_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at_us INTEGER NOT NULL
        )""",
    ):
        conn.exec_driver_sql(sql)


def _v2_presence(conn: Connection) -> None:
    """Each person's latest event, so occupancy and the roll-call stay fast with millions of events.

    Backfilled from existing events; `kiosk_fold` is the Python name-folding function registered on every
    connection (see engine.py)."""
    for sql in (
        """CREATE TABLE presence (
            person_key TEXT PRIMARY KEY,
            direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
            seq INTEGER NOT NULL,
            wall_time_us INTEGER NOT NULL,
            id_number TEXT NOT NULL,
            search_name TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE UNIQUE INDEX ix_presence_seq ON presence (seq)",
        "CREATE INDEX ix_presence_inside ON presence (wall_time_us, seq) WHERE direction = 'entry'",
        """INSERT INTO presence (person_key, direction, seq, wall_time_us, id_number, search_name)
           SELECT e.person_key, e.direction, e.seq, e.wall_time_us, e.id_number, kiosk_fold(e.full_name)
           FROM events AS e
           JOIN (SELECT person_key, max(seq) AS seq FROM events GROUP BY person_key) AS latest
             ON latest.seq = e.seq""",
    ):
        conn.exec_driver_sql(sql)


def _v3_refused_state(conn: Connection) -> None:
    """Outbox state `refused`: an event the server answered "refused" is set aside, neither resent nor purged
    (it never reached the server). SQLite cannot change a CHECK constraint in place: the table is rebuilt."""
    for sql in (
        """CREATE TABLE outbox_v3 (
            seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'acknowledged', 'refused')),
            attempts INTEGER NOT NULL DEFAULT 0,
            updated_at_us INTEGER NOT NULL
        )""",
        "INSERT INTO outbox_v3 (seq, state, attempts, updated_at_us) SELECT seq, state, attempts, updated_at_us FROM outbox",
        "DROP TABLE outbox",
        "ALTER TABLE outbox_v3 RENAME TO outbox",
        "CREATE INDEX ix_outbox_pending ON outbox (seq) WHERE state = 'pending'",
        "CREATE INDEX ix_outbox_sent ON outbox (seq) WHERE state = 'sent'",
        "CREATE INDEX ix_outbox_refused ON outbox (seq) WHERE state = 'refused'",
    ):
        conn.exec_driver_sql(sql)


MIGRATIONS: Sequence[Callable[[Connection], None]] = (_v1_events_outbox_state, _v2_presence, _v3_refused_state)
LATEST_VERSION = len(MIGRATIONS)


def read_version(conn: Connection) -> tuple[int, int]:
    """(application_id, user_version) of the open database."""
    app_id = conn.exec_driver_sql("PRAGMA application_id").scalar_one()
    version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
    return int(app_id), int(version)


def check_ours(conn: Connection, app_id: int, version: int, where: str) -> None:
    """Refuse a database this program must not touch: someone else's, or one written by a newer version."""
    if app_id not in (0, APPLICATION_ID):
        raise StoreError(f"{where} is an SQLite database of another application (application_id {app_id:#x})")
    if app_id == 0:  # our first migration sets the id: an unmarked file must be empty
        has_tables = conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
        if has_tables or version:
            raise StoreError(f"{where} is an SQLite database that is not a QR Checkpoint store")
    if version > len(MIGRATIONS):
        raise StoreError(
            f"{where} has schema version {version}, newer than this program supports ({len(MIGRATIONS)}): "
            "upgrade the kiosk software"
        )


def migrate(conn: Connection, target: int | None = None) -> int:
    """Apply the migrations after the current version up to `target`, inside the caller's transaction.

    Returns the number applied. `target` below the latest is for tests that build an old database."""
    _, version = read_version(conn)
    target = len(MIGRATIONS) if target is None else target
    applied = 0
    for number in range(version + 1, target + 1):
        MIGRATIONS[number - 1](conn)
        conn.exec_driver_sql(f"PRAGMA user_version = {number}")
        applied += 1
    return applied
