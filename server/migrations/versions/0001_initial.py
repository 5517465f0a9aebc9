"""Initial schema: venues, kiosks, tokens, events, signing keys, revocations, trusted certificates.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_venues_kiosks_tokens()
    _create_events()
    _create_trust_tables()


def _create_venues_kiosks_tokens() -> None:
    op.create_table(
        "venues",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("safety_level", sa.String(10)),
        sa.Column("safety_assessed_on", sa.Date),
        sa.Column("station_config", sa.Text, nullable=False, server_default="{}"),
        sa.PrimaryKeyConstraint("id", name="pk_venues"),
    )
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("venue_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("enroll_code_hash", sa.String(64)),
        sa.Column("enroll_expires_at", UTCDateTime),
        sa.Column("enrolled_at", UTCDateTime),
        sa.Column("last_seen_at", UTCDateTime),
        sa.Column("last_clock_offset_ms", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_kiosks"),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"], name="fk_kiosks_venue_id_venues"),
        sa.UniqueConstraint("enroll_code_hash", name="uq_kiosks_enroll_code_hash"),
    )
    op.create_index("ix_kiosks_venue_id", "kiosks", ["venue_id"])
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("venue_id", sa.Integer),
        sa.Column("kiosk_id", sa.Integer),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
        sa.PrimaryKeyConstraint("token_hash", name="pk_tokens"),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"], name="fk_tokens_venue_id_venues"),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"], name="fk_tokens_kiosk_id_kiosks"),
    )


def _create_events() -> None:
    op.create_table(
        "events",
        sa.Column("venue_id", sa.Integer, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("kiosk_id", sa.Integer, nullable=False),
        sa.Column("direction", sa.String(5), nullable=False),
        sa.Column("credential", sa.String(20), nullable=False),
        sa.Column("person_key", sa.String(1000), nullable=False),
        sa.Column("id_number", sa.String(1000), nullable=False),
        sa.Column("full_name", sa.String(1000), nullable=False),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("wall_time", UTCDateTime, nullable=False),
        sa.Column("corrected_time", UTCDateTime, nullable=False),
        sa.Column("clock_offset_ms", sa.BigInteger, nullable=False),
        sa.Column("monotonic_ns", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("flags", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("venue_id", "uuid", name="pk_events"),
    )
    op.create_index("ix_events_person_time", "events", ["id_number", "corrected_time"])
    op.create_index("ix_events_venue_time", "events", ["venue_id", "corrected_time"])


def _create_trust_tables() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("alg", sa.String(20), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_keys"),
    )
    op.create_table(
        "revocations",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", name="pk_revocations"),
    )
    op.create_table(
        "trusted_certificates",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("certificate", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name="pk_trusted_certificates"),
    )


def downgrade() -> None:
    for table in ("trusted_certificates", "revocations", "signing_keys", "events", "tokens", "kiosks", "venues"):
        op.drop_table(table)
