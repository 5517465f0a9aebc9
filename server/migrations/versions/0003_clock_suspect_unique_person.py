"""Events whose clock was wrong are stored, flagged; one person per ID number.

- `events.clock_suspect`: the corrected time was before 2020 or more than 24 h ahead. Such events used to be
  refused (and then purged by the kiosk); they are now stored with this flag.
- `persons.id_number` becomes unique (NULLs allowed, several persons without a number). Concurrent declarations
  of one number used to be able to create two persons; if a database holds such duplicates, the oldest person
  keeps the number and the later ones lose it (their declarations and QRs stay; a warning says how many).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("clock_suspect", sa.Boolean, nullable=False, server_default=sa.false()))
    _drop_duplicate_numbers()
    op.drop_index("ix_persons_id_number", table_name="persons")
    op.create_index("ix_persons_id_number", "persons", ["id_number"], unique=True)


def _drop_duplicate_numbers() -> None:
    persons = sa.table(
        "persons", sa.column("id", sa.String), sa.column("id_number", sa.String), sa.column("created_at")
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(persons.c.id, persons.c.id_number)
        .where(persons.c.id_number.is_not(None))
        .order_by(persons.c.id_number, persons.c.created_at, persons.c.id)
    ).all()
    seen: set[str] = set()
    later: list[str] = []
    for person_id, number in rows:
        if number in seen:
            later.append(person_id)
        seen.add(number)
    if later:
        log.warning("%d persons shared an ID number with an older person: their ID number was cleared", len(later))
        bind.execute(persons.update().where(persons.c.id.in_(later)).values(id_number=None))


def downgrade() -> None:
    op.drop_index("ix_persons_id_number", table_name="persons")
    op.create_index("ix_persons_id_number", "persons", ["id_number"])
    with op.batch_alter_table("events") as batch:
        batch.drop_column("clock_suspect")
