"""`event_uuids` partitioned by day too, by `wall_day` (the UTC day of the event's recorded `wall_time`, which a
resend does not change), so that retention drops a day's uuids with one DROP instead of deleting them by rows
(server/partitions.py says why this key and how retention keeps exactly-once). Converts the table with its rows:
each uuid's wall_day comes from its event (the arrival-or-corrected day of `aged_from` for a uuid whose event is
gone). One partition per day `events` has a partition for; any other day goes to `event_uuids_default`.
SQLite: nothing changes (no-op; it has no `event_uuids`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_OLD = "event_uuids_unpartitioned"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE event_uuids RENAME TO {_OLD}")
    op.execute(f"ALTER TABLE {_OLD} RENAME CONSTRAINT pk_event_uuids TO pk_{_OLD}")
    op.execute("ALTER INDEX ix_event_uuids_aged_from RENAME TO ix_event_uuids_aged_from_unpartitioned")
    op.execute(
        "CREATE TABLE event_uuids (venue_id integer NOT NULL, uuid varchar(36) NOT NULL, wall_day date NOT NULL, "
        "aged_from timestamptz NOT NULL, CONSTRAINT pk_event_uuids PRIMARY KEY (venue_id, uuid, wall_day)) "
        "PARTITION BY RANGE (wall_day)"
    )
    op.execute("CREATE INDEX ix_event_uuids_aged_from ON event_uuids (aged_from)")
    op.execute("CREATE TABLE event_uuids_default PARTITION OF event_uuids DEFAULT")
    names = op.get_bind().exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass('events') AND c.relname ~ '^events_p[0-9]{8}$'"
    )
    for (name,) in names.all():
        day = datetime.strptime(name.removeprefix("events_p"), "%Y%m%d").date()
        op.execute(
            f"CREATE TABLE event_uuids_p{day:%Y%m%d} PARTITION OF event_uuids FOR VALUES FROM ('{day}') "
            f"TO ('{day + timedelta(days=1)}')"
        )
    op.execute(
        "INSERT INTO event_uuids SELECT u.venue_id, u.uuid, "
        "(coalesce(e.wall_time, u.aged_from) AT TIME ZONE 'UTC')::date, u.aged_from "
        f"FROM {_OLD} u LEFT JOIN events e ON e.venue_id = u.venue_id AND e.uuid = u.uuid"
    )
    op.execute(f"DROP TABLE {_OLD}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE TABLE {_OLD} (venue_id integer NOT NULL, uuid varchar(36) NOT NULL, aged_from timestamptz NOT NULL, "
        "CONSTRAINT pk_event_uuids_flat PRIMARY KEY (venue_id, uuid))"
    )
    # A uuid is in one partition (its wall_day); ON CONFLICT only guards against a hand-made second copy.
    op.execute(f"INSERT INTO {_OLD} SELECT venue_id, uuid, aged_from FROM event_uuids ON CONFLICT DO NOTHING")
    op.execute("DROP TABLE event_uuids")  # and every partition
    op.execute(f"ALTER TABLE {_OLD} RENAME TO event_uuids")
    op.execute("ALTER TABLE event_uuids RENAME CONSTRAINT pk_event_uuids_flat TO pk_event_uuids")
    op.execute("CREATE INDEX ix_event_uuids_aged_from ON event_uuids (aged_from)")
