"""One vocabulary for the questionnaire policy: the kiosk's words on the wire and in the database.

Venues' stored station settings said `off`, `ask` and `require` where the kiosk's configuration says `never`,
`assisted` and `always` (`kiosk.vocabulary.QuestionnairePolicy`); the words are mapped both ways.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen here, as revisions are: the words of each side when this revision was written.
OLD_TO_NEW = {"off": "never", "ask": "assisted", "require": "always"}
NEW_TO_OLD = {new: old for old, new in OLD_TO_NEW.items()}

venues = sa.table("venues", sa.column("id", sa.Integer), sa.column("station_config", sa.Text))


def upgrade() -> None:
    _rewrite_policies(OLD_TO_NEW)


def downgrade() -> None:
    _rewrite_policies(NEW_TO_OLD)


def _rewrite_policies(mapping: dict[str, str]) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(venues.c.id, venues.c.station_config).where(venues.c.station_config.is_not(None)))
    for venue_id, text in rows.all():
        config = json.loads(text or "{}")
        policy = config.get("questionnaire_policy")
        if policy in mapping:
            config["questionnaire_policy"] = mapping[policy]
            changed = json.dumps(config, sort_keys=True)
            conn.execute(sa.update(venues).where(venues.c.id == venue_id).values(station_config=changed))
