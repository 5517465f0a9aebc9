"""The fleet's status and the venues' safety self-assessments (issue 12, venue and fleet pages).

- `kiosk_status`: the latest status each kiosk reported with a batch (pending count, software version, its clock
  offset, when it last had its configuration, keys, revocations and trust list, refused events).
- `safety_assessments`: every COVID safety self-assessment of a venue (answers, score, level, who).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _moment(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "kiosk_status",
        sa.Column("kiosk_id", sa.Integer, nullable=False),
        sa.Column("venue_id", sa.Integer, nullable=False),
        _moment("reported_at", nullable=False),
        sa.Column("software_version", sa.String(40)),
        sa.Column("pending", sa.Integer),
        sa.Column("refused", sa.Integer),
        sa.Column("clock_offset_ms", sa.BigInteger),
        _moment("config_fetched_at"),
        _moment("keys_fetched_at"),
        _moment("revocations_fetched_at"),
        _moment("trust_list_fetched_at"),
        sa.PrimaryKeyConstraint("kiosk_id", name="pk_kiosk_status"),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"], name="fk_kiosk_status_kiosk_id_kiosks"),
    )
    op.create_index("ix_kiosk_status_venue_id", "kiosk_status", ["venue_id"])
    op.create_table(
        "safety_assessments",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("venue_id", sa.Integer, nullable=False),
        _moment("assessed_at", nullable=False),
        sa.Column("assessed_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_safety_assessments"),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"], name="fk_safety_assessments_venue_id_venues"),
    )
    op.create_index("ix_safety_assessments_venue_time", "safety_assessments", ["venue_id", "assessed_at"])


def downgrade() -> None:
    op.drop_index("ix_safety_assessments_venue_time", table_name="safety_assessments")
    op.drop_table("safety_assessments")
    op.drop_index("ix_kiosk_status_venue_id", table_name="kiosk_status")
    op.drop_table("kiosk_status")
