"""The store's hand-written SQL: hot queries whose plan matters, and statements that take a list as JSON.

Lists of seqs or UUIDs are passed as one JSON parameter and expanded by `json_each`: no bound-variable limit."""

from __future__ import annotations

from sqlalchemy import text

from .codec import EVENT_FIELDS

PRESENCE_UPSERT_SQL = """
    INSERT INTO presence (person_key, direction, seq, wall_time_us, id_number, search_name) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (person_key) DO UPDATE SET direction = excluded.direction, seq = excluded.seq,
        wall_time_us = excluded.wall_time_us, id_number = excluded.id_number, search_name = excluded.search_name"""


# Hot queries as explicit SQL. CROSS JOIN fixes SQLite's loop order (presence first): without statistics the planner
# was seen to scan the 1M-row events table instead of the small presence table.
E_COLUMNS = ", ".join(f"e.{name}" for name in EVENT_FIELDS) + ", o.state"
FROM_PRESENCE = "presence AS p CROSS JOIN events AS e ON e.seq = p.seq CROSS JOIN outbox AS o ON o.seq = e.seq"
LAST_EVENT_SQL = text(f"SELECT {E_COLUMNS} FROM {FROM_PRESENCE} WHERE p.person_key = :key")
INSIDE_SQL = text(f"SELECT {E_COLUMNS} FROM {FROM_PRESENCE} WHERE p.direction = 'entry' ORDER BY p.wall_time_us, p.seq")
# The LIMIT keeps the subquery a separate step: match on presence alone, then fetch only the hits' events.
SEARCH_SQL = text(f"""
    SELECT {E_COLUMNS} FROM (
        SELECT seq, wall_time_us FROM presence
        WHERE search_name LIKE :name ESCAPE '\\' OR id_number LIKE :id_suffix ESCAPE '\\'
        ORDER BY wall_time_us DESC, seq DESC LIMIT :limit
    ) AS p CROSS JOIN events AS e ON e.seq = p.seq CROSS JOIN outbox AS o ON o.seq = e.seq
    ORDER BY p.wall_time_us DESC, p.seq DESC""")

# One subquery per partial index (ix_outbox_pending, ix_outbox_sent): an IN over both would scan the table.
UNACKED_COUNT_SQL = """SELECT (SELECT count(*) FROM outbox WHERE state = 'pending')
                            + (SELECT count(*) FROM outbox WHERE state = 'sent')"""
# The first-recorded unacknowledged event (index lookups only; min() of two NULL-safe operands).
OLDEST_UNACKED_SQL = """
    WITH firsts AS (SELECT (SELECT min(seq) FROM outbox WHERE state = 'pending') AS p,
                           (SELECT min(seq) FROM outbox WHERE state = 'sent') AS s)
    SELECT e.wall_time_us FROM events AS e, firsts WHERE e.seq = min(coalesce(p, s), coalesce(s, p))"""

CLAIM_SQL = """UPDATE outbox SET state = 'sent', attempts = attempts + 1, updated_at_us = ?
    WHERE state = 'pending' AND seq IN (SELECT value FROM json_each(?)) RETURNING seq"""
SEQS_OF_UUIDS_SQL = "SELECT seq FROM events WHERE uuid IN (SELECT value FROM json_each(?))"

PURGE_SELECT = """
    SELECT e.seq FROM events AS e JOIN outbox AS o ON o.seq = e.seq
    WHERE e.wall_time_us < ? AND o.state = 'acknowledged'
      AND NOT EXISTS (SELECT 1 FROM presence AS p WHERE p.seq = e.seq AND p.direction = 'entry')
    LIMIT ?"""
# Events dated after `now` (a kiosk clock that ran ahead) age by when the server acknowledged them: the outbox
# row's last change, which is never earlier than the event's insertion here.
PURGE_FUTURE_SELECT = """
    SELECT e.seq FROM events AS e JOIN outbox AS o ON o.seq = e.seq
    WHERE e.wall_time_us > ? AND o.state = 'acknowledged' AND o.updated_at_us < ?
      AND NOT EXISTS (SELECT 1 FROM presence AS p WHERE p.seq = e.seq AND p.direction = 'entry')
    LIMIT ?"""
# Entries whose person has shown nothing since `older_than`: nobody stays inside for the whole retention period
# (an entry-only door never records exits). Dropping the presence row closes the visit here, so that the entry
# ages like any other; no exit event is invented for the server, whose tracing estimates such stays itself.
CLOSE_STALE_ENTRIES = "DELETE FROM presence WHERE direction = 'entry' AND wall_time_us < ?"
# The highest event sequence number ever given (AUTOINCREMENT keeps it in sqlite_sequence, purges included).
HIGHEST_SEQ = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)"
