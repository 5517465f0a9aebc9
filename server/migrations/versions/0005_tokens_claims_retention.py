"""Tokens with a life, ID numbers as claims.

- `tokens.expires_at` (NULL: never) and `tokens.last_used_at`; `kiosks.token_days`: the life of the token the
  kiosk's next enrolment gives.
- `persons.id_number` is no longer unique: a number typed on the public declaration page is a claim, and a
  second person may claim it without blocking anyone. `persons.id_status` says `claimed` (self-declared),
  `verified` (staff saw the papers: at most one per number, a partial unique index) or `rejected`. Persons
  from before this revision become `claimed`: nothing recorded says who checked them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_VERIFIED = sa.text("id_status = 'verified'")


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("kiosks") as batch:
        batch.add_column(sa.Column("token_days", sa.Integer))
    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("id_status", sa.String(10), nullable=False, server_default="claimed"))
    op.drop_index("ix_persons_id_number", table_name="persons")
    op.create_index("ix_persons_id_number", "persons", ["id_number"])
    op.create_index(
        "ux_persons_verified_id_number",
        "persons",
        ["id_number"],
        unique=True,
        sqlite_where=_VERIFIED,
        postgresql_where=_VERIFIED,
    )


def downgrade() -> None:
    """Back to one person per number: the oldest claim keeps it (0003's rule), the later ones lose it."""
    op.drop_index("ux_persons_verified_id_number", table_name="persons")
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
    later = []
    for person_id, number in rows:
        if number in seen:
            later.append(person_id)
        seen.add(number)
    if later:
        bind.execute(persons.update().where(persons.c.id.in_(later)).values(id_number=None))
    op.drop_index("ix_persons_id_number", table_name="persons")
    op.create_index("ix_persons_id_number", "persons", ["id_number"], unique=True)
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy of `persons` or `kiosks`
    # would drop a table other tables' foreign keys point at.
    for table, column in (
        ("persons", "id_status"),
        ("kiosks", "token_days"),
        ("tokens", "last_used_at"),
        ("tokens", "expires_at"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
