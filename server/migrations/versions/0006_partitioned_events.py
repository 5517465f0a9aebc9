"""Partitioned events on PostgreSQL: one partition per UTC day of corrected_time, a default partition, and
`event_uuids` for exactly-once (see server/partitions.py for why). Converts a table with data in it: the
events are copied into day partitions made for the days they hold. SQLite: nothing changes (no-op).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_OLD = "events_unpartitioned"
_INDEXES = {"ix_events_person_time": "id_number, corrected_time", "ix_events_venue_time": "venue_id, corrected_time"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE events RENAME TO {_OLD}")
    op.execute(f"ALTER TABLE {_OLD} RENAME CONSTRAINT pk_events TO pk_{_OLD}")
    for name in _INDEXES:
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_unpartitioned")
    op.execute(f"CREATE TABLE events (LIKE {_OLD} INCLUDING DEFAULTS) PARTITION BY RANGE (corrected_time)")
    for name, columns in _INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON events ({columns})")
    op.execute("CREATE TABLE events_default PARTITION OF events DEFAULT")
    op.execute(
        "CREATE TABLE event_uuids (venue_id integer NOT NULL, uuid varchar(36) NOT NULL, "
        "aged_from timestamptz NOT NULL, CONSTRAINT pk_event_uuids PRIMARY KEY (venue_id, uuid))"
    )
    op.execute("CREATE INDEX ix_event_uuids_aged_from ON event_uuids (aged_from)")
    days = op.get_bind().exec_driver_sql(
        f"SELECT DISTINCT (corrected_time AT TIME ZONE 'UTC')::date FROM {_OLD} "
        "WHERE NOT clock_suspect AND corrected_time >= '2020-01-01T00:00:00+00:00'"
    )
    for (day,) in days.all():
        start = datetime.combine(day, time(), tzinfo=UTC)
        op.execute(
            f"CREATE TABLE events_p{day:%Y%m%d} PARTITION OF events FOR VALUES FROM ('{start.isoformat()}') "
            f"TO ('{(start + timedelta(days=1)).isoformat()}')"
        )
    op.execute(f"INSERT INTO events SELECT * FROM {_OLD}")
    op.execute(
        "INSERT INTO event_uuids SELECT venue_id, uuid, "
        f"CASE WHEN clock_suspect THEN received_at ELSE corrected_time END FROM {_OLD}"
    )
    op.execute(f"DROP TABLE {_OLD}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE TABLE {_OLD} (LIKE events INCLUDING DEFAULTS)")
    op.execute(f"INSERT INTO {_OLD} SELECT * FROM events")
    op.execute("DROP TABLE events")  # and every partition
    op.execute("DROP TABLE event_uuids")
    op.execute(f"ALTER TABLE {_OLD} RENAME TO events")
    op.execute("ALTER TABLE events ADD CONSTRAINT pk_events PRIMARY KEY (venue_id, uuid)")
    for name, columns in _INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON events ({columns})")
