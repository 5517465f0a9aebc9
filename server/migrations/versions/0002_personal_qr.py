"""Personal QR: private halves of signing keys in `signing_keys`; `persons` and `declarations`.

Before this revision the server created `signing_private_keys`, `persons` and `declarations` on first use,
outside Alembic. A database at 0001 may therefore have them already, with data: they are adopted as they
are (persons, declarations) or folded into `signing_keys` and dropped (signing_private_keys), so that the
upgrade keeps every key, person and declaration.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_OLD_PRIVATE_TABLE = "signing_private_keys"


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("private_key", sa.Text))
        batch.add_column(sa.Column("encrypted", sa.Boolean, nullable=False, server_default=sa.false()))
    if _OLD_PRIVATE_TABLE in existing:
        _fold_old_private_keys()
    if "persons" not in existing:
        _create_persons()
    if "declarations" not in existing:
        _create_declarations()


def _fold_old_private_keys() -> None:
    """Copy each private half onto its signing_keys row (same kid), then drop the first-use table."""
    old = sa.table(
        _OLD_PRIVATE_TABLE,
        sa.column("kid", sa.String),
        sa.column("private_key", sa.Text),
        sa.column("encrypted", sa.Boolean),
    )
    keys = sa.table(
        "signing_keys",
        sa.column("kid", sa.String),
        sa.column("private_key", sa.Text),
        sa.column("encrypted", sa.Boolean),
    )
    match = old.c.kid == keys.c.kid
    op.execute(
        keys.update()
        .where(keys.c.kid.in_(sa.select(old.c.kid)))
        .values(
            private_key=sa.select(old.c.private_key).where(match).scalar_subquery(),
            encrypted=sa.select(old.c.encrypted).where(match).scalar_subquery(),
        )
    )
    op.drop_table(_OLD_PRIVATE_TABLE)


def _create_persons() -> None:
    op.create_table(
        "persons",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("id_number", sa.String(20)),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("phone", sa.String(20)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_persons"),
    )
    op.create_index("ix_persons_id_number", "persons", ["id_number"])


def _create_declarations() -> None:
    op.create_table(
        "declarations",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("person_id", sa.String(16), nullable=False),
        sa.Column("declared_at", UTCDateTime, nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("symptoms", sa.Boolean, nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("qr_expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_declarations"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name="fk_declarations_person_id_persons"),
    )
    op.create_index("ix_declarations_person_id", "declarations", ["person_id"])


def downgrade() -> None:
    """Back to 0001: private halves move to `signing_private_keys` again. `persons` and `declarations` stay
    (0001's code created them on first use and adopts them as they are): downgrading loses no data."""
    op.create_table(
        _OLD_PRIVATE_TABLE,
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("private_key", sa.Text, nullable=False),
        sa.Column("encrypted", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.execute(
        f"INSERT INTO {_OLD_PRIVATE_TABLE} (kid, private_key, encrypted, created_at) "
        "SELECT kid, private_key, encrypted, created_at FROM signing_keys WHERE private_key IS NOT NULL"
    )
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("encrypted")
        batch.drop_column("private_key")
