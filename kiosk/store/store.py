"""The kiosk's local store: events, their outbox state, presence and small key/value state, in one SQLite file.

Threading: one lock serialises writes inside the process (the scan thread's `record()` and the sync thread's
outbox updates); every write is one short BEGIN IMMEDIATE transaction on the writer engine. Reads use a separate
pool of connections and, thanks to WAL, never wait for a writer."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, and_, func, insert, or_, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

import kiosk.store.sql as sql
from kiosk.config import default_db_path
from kiosk.events import Direction, NewEvent, StoredEvent

from .checkpoint import Checkpointer
from .codec import event_to_row, fold_text, from_us, row_to_event, stored_from_new, to_us
from .engine import make_engine
from .errors import StoreError
from .files import HighWaterMark, create_private_file, create_private_folders, tighten
from .integrity import check_high_water
from .migrations import check_ours, migrate, read_version
from .schema import EVENT_COLUMNS, events, kv_state, outbox, presence

log = logging.getLogger(__name__)
PENDING, SENT, ACKNOWLEDGED, REFUSED = "pending", "sent", "acknowledged", "refused"
_EVENTS_PAGE = 2000  # rows per query when streaming events()
_PURGE_CHUNK = 1000  # rows per purge transaction: a scan waits at most one chunk (tens of ms)
_WITH_STATE = (*EVENT_COLUMNS, outbox.c.state)


def _reason(exc: BaseException) -> str:
    """The driver's own message (e.g. "database or disk is full"), on one line."""
    orig = getattr(exc, "orig", None) or exc
    message = " ".join((str(orig) or type(orig).__name__).split())
    if message == "unable to open database file":  # SQLite's words for a missing or unwritable folder
        message += " (is its folder writable?)"
    return message


def _now_us() -> int:
    return to_us(datetime.now(UTC))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _json_values(array_json: str) -> Any:
    """`SELECT value FROM json_each(?)`: a list as one bound parameter (no bound-variable limit)."""
    return select(text("value")).select_from(func.json_each(array_json))


def _uuid_json(uuids: Iterable[str]) -> str:
    """A list of UUIDs as one JSON parameter, expanded in SQL by json_each (no bound-variable limit)."""
    return json.dumps([str(u) for u in uuids])


class Store:
    """The local SQLite store. Create with `Store.open(path)`; every failure is a one-line `StoreError`."""

    def __init__(self, path: Path, writer: Engine, relaxed: Engine, reader: Engine, high_water: HighWaterMark) -> None:
        self._path = path
        self._high_water = high_water
        self._writer = writer  # synchronous=FULL: events, state
        self._relaxed = relaxed  # synchronous=NORMAL: outbox transitions and purge, which are safe to redo
        self._reader = reader
        self._lock = threading.Lock()
        self._closed = False
        self._checkpointer = Checkpointer(path)
        self._checkpointer.start()

    # --- opening and closing -------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open (creating if needed) the store at `path` and bring its schema up to date."""
        path = Path(path).expanduser().absolute()  # the checkpointer thread must not depend on the cwd
        where = str(path)
        try:
            created = create_private_folders(path.parent)
        except OSError as exc:
            blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
            reason = f"{blocker} is a file, not a folder" if blocker else (exc.strerror or str(exc))
            raise StoreError(f"cannot create the folder for the local store {where}: {reason}") from None
        if path.is_dir():
            raise StoreError(f"cannot open the local store {where}: it is a folder, not a file")
        try:
            create_private_file(path)
            high_water = HighWaterMark(path)
        except OSError as exc:
            raise StoreError(f"cannot open the local store {where}: {exc.strerror or exc}") from None
        engines = (
            make_engine(path, writer=True),
            make_engine(path, writer=True, synchronous="NORMAL"),
            make_engine(path, writer=False),
        )
        try:
            cls._prepare(engines[0], where)
            check_high_water(engines[0], high_water)
            tighten(path, private_folder=bool(created) or path.parent == default_db_path().parent)
        except (StoreError, SQLAlchemyError, sqlite3.Error, OSError) as exc:
            for engine in engines:
                engine.dispose()
            high_water.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot open the local store {where}: {_reason(exc)}") from None
        return cls(path, *engines, high_water)

    @staticmethod
    def _prepare(writer: Engine, where: str) -> None:
        """WAL mode, version check, migrations, and a probe write (so a read-only file fails now, not at a scan)."""
        raw = writer.raw_connection()
        try:
            cursor = raw.cursor()
            mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            cursor.close()
        finally:
            raw.close()
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot open the local store {where}: WAL mode unavailable (journal mode {mode})")
        with writer.begin() as conn:
            app_id, version = read_version(conn)
            check_ours(conn, app_id, version, where)
            migrate(conn)
            _upsert_state(conn, "store.opened_at", datetime.now(UTC).isoformat())

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        """Close every connection; further calls raise StoreError."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._checkpointer.stop()
                for engine in (self._reader, self._relaxed, self._writer):
                    engine.dispose()
                self._high_water.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- transactions --------------------------------------------------------------------------------------

    @contextmanager
    def _write(self, what: str, durable: bool = True) -> Iterator[Connection]:
        """One short write transaction under the process-wide write lock; any failure rolls it back entirely.

        durable=False: committed without fsync (see engine.make_engine), for changes that are safe to lose."""
        with self._lock:
            if self._closed:
                raise StoreError("the local store is closed")
            try:
                with (self._writer if durable else self._relaxed).begin() as conn:
                    yield conn
            except StoreError:
                raise
            except SQLAlchemyError as exc:
                raise StoreError(f"{what} failed: {_reason(exc)}") from exc

    @contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        if self._closed:
            raise StoreError("the local store is closed")
        try:
            with self._reader.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"{what} failed: {_reason(exc)}") from exc

    # --- events --------------------------------------------------------------------------------------------

    def record(self, event: NewEvent) -> StoredEvent:
        """Write the event, its pending outbox row and the person's presence in ONE transaction.

        Durable (fsynced) when it returns. On any failure nothing is written and StoreError is raised."""
        row = event_to_row(event)
        now = _now_us()
        try:
            with self._write("recording an event") as conn:
                seq = _inserted_seq(conn.execute(insert(events).values(row)))
                conn.execute(insert(outbox).values(seq=seq, state=PENDING, attempts=0, updated_at_us=now))
                conn.exec_driver_sql(sql.PRESENCE_UPSERT_SQL, _presence_values(row, seq))
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError) and "events.uuid" in str(exc):
                raise StoreError(f"event {row['uuid']} is already recorded") from None
            raise
        self._high_water.advance(seq)
        return stored_from_new(event, row, seq)

    def last_event(self, person_key: str) -> StoredEvent | None:
        """The person's latest recorded event (by insertion order), or None if they have none."""
        with self._read("reading the last event") as conn:
            row = conn.execute(sql.LAST_EVENT_SQL, {"key": person_key}).first()
        return row_to_event(row, row[-1]) if row is not None else None

    def occupancy(self) -> int:
        """How many people are inside: those whose latest event is an entry."""
        query = select(func.count()).select_from(presence).where(presence.c.direction == Direction.ENTRY.value)
        with self._read("counting occupancy") as conn:
            return int(conn.execute(query).scalar_one())

    def inside(self) -> list[StoredEvent]:
        """The entry events of everyone inside, oldest first: the evacuation roll-call."""
        with self._read("listing who is inside") as conn:
            rows = conn.execute(sql.INSIDE_SQL).all()
        return [row_to_event(row, row[-1]) for row in rows]

    def events(self, start: datetime | None = None, end: datetime | None = None) -> Iterator[StoredEvent]:
        """Events with start <= wall_time < end, in time order, read page by page (no long-held transaction)."""
        query = select(*_WITH_STATE).select_from(events.join(outbox))
        if start is not None:
            query = query.where(events.c.wall_time_us >= to_us(start, "start"))
        if end is not None:
            query = query.where(events.c.wall_time_us < to_us(end, "end"))
        query = query.order_by(events.c.wall_time_us, events.c.seq).limit(_EVENTS_PAGE)
        return self._paged_events(query)

    def _paged_events(self, query: Any) -> Iterator[StoredEvent]:
        after: tuple[int, int] | None = None
        while True:
            page = query
            if after is not None:  # keyset paging on (wall_time_us, seq): the index order
                wall, seq = after
                page = query.where(
                    or_(events.c.wall_time_us > wall, and_(events.c.wall_time_us == wall, events.c.seq > seq))
                )
            with self._read("reading events") as conn:
                rows = conn.execute(page).all()
            for row in rows:
                yield row_to_event(row, row[-1])
            if len(rows) < _EVENTS_PAGE:
                return
            after = (rows[-1].wall_time_us, rows[-1].seq)

    def count_events(self) -> int:
        with self._read("counting events") as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

    def today_counts(self, day_start: datetime) -> dict[str, int]:
        """{"entries": n, "exits": m} for events with wall_time >= day_start."""
        query = (
            select(events.c.direction, func.count())
            .where(events.c.wall_time_us >= to_us(day_start, "day_start"))
            .group_by(events.c.direction)
        )
        with self._read("counting today's events") as conn:
            counts: dict[str, int] = {direction: count for direction, count in conn.execute(query).all()}
        return {"entries": int(counts.get(Direction.ENTRY.value, 0)), "exits": int(counts.get(Direction.EXIT.value, 0))}

    def search(self, text: str, limit: int = 50) -> list[StoredEvent]:
        """Latest event of each person whose name contains `text` (ignoring case and Vietnamese diacritics) or
        whose ID number ends with it; most recent first."""
        needle = text.strip()
        if not needle or limit <= 0:
            return []
        params = {
            "name": f"%{_escape_like(fold_text(needle))}%",
            "id_suffix": f"%{_escape_like(needle)}",
            "limit": limit,
        }
        with self._read("searching") as conn:
            rows = conn.execute(sql.SEARCH_SQL, params).all()
        return [row_to_event(row, row[-1]) for row in rows]

    def purge(self, older_than: datetime, now: datetime | None = None) -> int:
        """Delete ACKNOWLEDGED events (and their outbox rows) with wall_time < older_than; returns how many.

        With `now`, events dated after it (a clock that ran ahead) go too once acknowledged before `older_than`.
        Never deletes a pending or sent event, nor the entry event of someone still inside (the roll-call must
        stay complete; `close_stale_entries` ends visits that outlived the retention period). When a person's
        latest event (an exit) is purged, their presence row goes too: they are then simply unknown, which the
        rules treat like someone outside."""
        cut = to_us(older_than, "older_than")
        total = self._purge_chunks(sql.PURGE_SELECT, (cut,))
        if now is not None:
            total += self._purge_chunks(sql.PURGE_FUTURE_SELECT, (to_us(now, "now"), cut))
        return total

    def close_stale_entries(self, older_than: datetime) -> int:
        """Take people whose last event is an entry before `older_than` off the roll-call; returns how many."""
        with self._write("closing stale visits", durable=False) as conn:
            return int(conn.exec_driver_sql(sql.CLOSE_STALE_ENTRIES, (to_us(older_than, "older_than"),)).rowcount)

    def _purge_chunks(self, select_sql: str, parameters: tuple[int, ...]) -> int:
        total = 0
        while True:
            with self._write("purging old events", durable=False) as conn:
                seqs = conn.exec_driver_sql(select_sql, (*parameters, _PURGE_CHUNK)).scalars().all()
                if seqs:
                    ids = json.dumps(seqs)
                    conn.exec_driver_sql("DELETE FROM presence WHERE seq IN (SELECT value FROM json_each(?))", (ids,))
                    conn.exec_driver_sql("DELETE FROM events WHERE seq IN (SELECT value FROM json_each(?))", (ids,))
            total += len(seqs)
            if len(seqs) < _PURGE_CHUNK:
                return total

    # --- outbox (used by sync.client) ----------------------------------------------------------------------

    def claim_pending(self, limit: int) -> list[StoredEvent]:
        """Up to `limit` pending events, oldest (by seq) first, now marked sent."""
        if limit <= 0:
            return []
        query = (
            select(*EVENT_COLUMNS)
            .select_from(outbox.join(events))
            .where(outbox.c.state == PENDING)
            .order_by(outbox.c.seq)
            .limit(limit)
        )
        # Read outside the write lock (a scan's record() must not wait for this), then claim under it: only the
        # rows that are still pending then are returned, so two claimers can never both send an event.
        with self._read("reading pending events") as conn:
            rows = conn.execute(query).all()
        if not rows:
            return []
        with self._write("claiming pending events", durable=False) as conn:
            claimed = set(
                conn.exec_driver_sql(sql.CLAIM_SQL, (_now_us(), json.dumps([row.seq for row in rows]))).scalars()
            )
        return [row_to_event(row, SENT) for row in rows if row.seq in claimed]

    def acknowledge(self, uuids: Iterable[str]) -> int:
        """Mark the events the server has stored as acknowledged; returns how many changed."""
        return self._set_state_by_uuid(uuids, to_state=ACKNOWLEDGED, from_states=(PENDING, SENT))

    def set_aside(self, uuids: Iterable[str]) -> int:
        """Events the server refused: kept, never resent and never purged (they did not reach the server)."""
        return self._set_state_by_uuid(uuids, to_state=REFUSED, from_states=(PENDING, SENT))

    def refused_count(self) -> int:
        with self._read("counting refused events") as conn:
            return int(conn.execute(select(func.count()).where(outbox.c.state == REFUSED)).scalar_one())

    def release(self, uuids: Iterable[str]) -> int:
        """Sent -> pending for events whose send failed; returns how many changed."""
        return self._set_state_by_uuid(uuids, to_state=PENDING, from_states=(SENT,))

    def release_unacknowledged(self) -> int:
        """Every sent event back to pending: call at start-up, after a crash between send and acknowledge."""
        with self._write("releasing sent events", durable=False) as conn:
            result = conn.execute(
                outbox.update().where(outbox.c.state == SENT).values(state=PENDING, updated_at_us=_now_us())
            )
        return int(result.rowcount)

    def _set_state_by_uuid(self, uuids: Iterable[str], *, to_state: str, from_states: tuple[str, ...]) -> int:
        ids = _uuid_json(uuids)
        if ids == "[]":
            return 0
        # uuid -> seq never changes: resolve it before taking the write lock, keep the locked part short.
        with self._read("looking up events") as conn:
            seqs = conn.exec_driver_sql(sql.SEQS_OF_UUIDS_SQL, (ids,)).scalars().all()
        if not seqs:
            return 0
        with self._write(f"marking events {to_state}", durable=False) as conn:
            result = conn.execute(
                outbox.update()
                .where(outbox.c.state.in_(from_states), outbox.c.seq.in_(_json_values(json.dumps(seqs))))
                .values(state=to_state, updated_at_us=_now_us())
            )
        return int(result.rowcount)

    def pending_count(self) -> int:
        """Events not yet acknowledged by the server (pending + sent)."""
        with self._read("counting pending events") as conn:
            return int(conn.exec_driver_sql(sql.UNACKED_COUNT_SQL).scalar_one())

    def outbox_counts(self) -> dict[str, int]:
        """{"pending": n, "sent": m, "acknowledged": k}."""
        query = select(outbox.c.state, func.count()).group_by(outbox.c.state)
        with self._read("counting the outbox") as conn:
            counts: dict[str, int] = {state: count for state, count in conn.execute(query).all()}
        return {state: int(counts.get(state, 0)) for state in (PENDING, SENT, ACKNOWLEDGED)}

    def oldest_pending_time(self) -> datetime | None:
        """Wall time of the first-recorded event not yet acknowledged (the one waiting longest), or None."""
        with self._read("reading the oldest pending event") as conn:
            value = conn.exec_driver_sql(sql.OLDEST_UNACKED_SQL).scalar()
        return from_us(value) if value is not None else None

    # --- key/value state -----------------------------------------------------------------------------------

    def quick_check(self) -> list[str]:
        """SQLite's `PRAGMA quick_check`: [] for a sound database, else what it found (at most 20 lines)."""
        with self._read("checking the database") as conn:
            found = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check(20)").all()]
        return [] if found == ["ok"] else found

    def get_state(self, key: str) -> str | None:
        with self._read("reading state") as conn:
            return conn.execute(select(kv_state.c.value).where(kv_state.c.key == key)).scalar_one_or_none()

    def set_state(self, key: str, value: str | None) -> None:
        """Store `value` under `key` (None deletes the key)."""
        with self._write("saving state") as conn:
            if value is None:
                conn.execute(kv_state.delete().where(kv_state.c.key == key))
            else:
                _upsert_state(conn, key, value)


def _presence_values(row: dict[str, Any], seq: int) -> tuple[Any, ...]:
    """Parameters of sql.PRESENCE_UPSERT_SQL for an event row."""
    return (
        row["person_key"],
        row["direction"],
        seq,
        row["wall_time_us"],
        row["id_number"],
        fold_text(row["full_name"]),
    )


def _upsert_state(conn: Connection, key: str, value: str) -> None:
    statement = sqlite_insert(kv_state).values(key=key, value=value, updated_at_us=_now_us())
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[kv_state.c.key],
            set_={"value": statement.excluded.value, "updated_at_us": statement.excluded.updated_at_us},
        )
    )


def _inserted_seq(result: CursorResult[Any]) -> int:
    """The `seq` SQLite gave the event just inserted (an INTEGER PRIMARY KEY always has one)."""
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database gave the new event no sequence number")
    return int(key[0])
