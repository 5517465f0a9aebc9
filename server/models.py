"""The central server's tables (SQLAlchemy Core: ingest is bulk inserts, tracing is a few indexed selects).

Every table that grows with traffic keeps `venue_id` in its key, so the schema can be distributed by venue
(Citus `create_distributed_table('events', 'venue_id')`): a co-visitor query reads one venue, i.e. one shard.
Small tables (venues, kiosks, tokens, keys, persons) would be Citus reference tables.

Times are stored in UTC (`UTCDateTime`): timestamptz on PostgreSQL, naive-UTC text on SQLite (sorts correctly).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    text,
)
from sqlalchemy.engine import Dialect

from sync.protocol import FIELD_LIMITS

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every dialect."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


venues = Table(
    "venues",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("safety_level", String(10)),
    Column("safety_assessed_on", Date),
    Column("station_config", Text, nullable=False, server_default="{}"),  # JSON: mode, capacity, ...
)

kiosks = Table(
    "kiosks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("venue_id", Integer, ForeignKey("venues.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("enroll_code_hash", String(64), unique=True),  # NULL once used
    Column("enroll_expires_at", UTCDateTime),
    Column("enrolled_at", UTCDateTime),
    Column("last_seen_at", UTCDateTime),
    Column("last_clock_offset_ms", BigInteger),  # server - kiosk at the last batch
    Column("token_days", Integer),  # the token its enrolment gives expires after this many days (NULL: never)
)

# Bearer tokens of every role, stored as sha256 hex (tokens are 256-bit random: no slow hash needed).
tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("role", String(20), nullable=False),  # "kiosk", "manager", "authority"
    Column("venue_id", Integer, ForeignKey("venues.id")),  # kiosk and manager tokens
    Column("kiosk_id", Integer, ForeignKey("kiosks.id")),  # kiosk tokens
    Column("name", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("expires_at", UTCDateTime),  # revision 0005; NULL: never
    Column("last_used_at", UTCDateTime),  # revision 0005; updated at most once a minute
    Column("owner_id", Integer, ForeignKey("console_users.id")),  # revision 0007: made in the console by this user
)

events = Table(
    "events",
    metadata,
    Column("venue_id", Integer, nullable=False),
    Column("uuid", String(36), nullable=False),
    Column("kiosk_id", Integer, nullable=False),
    Column("direction", String(5), nullable=False),
    Column("credential", String(FIELD_LIMITS["credential"]), nullable=False),
    Column("person_key", String(1000), nullable=False),
    Column("id_number", String(1000), nullable=False),
    Column("full_name", String(1000), nullable=False),
    Column("date_of_birth", Date),
    Column("wall_time", UTCDateTime, nullable=False),  # the kiosk's clock
    Column("corrected_time", UTCDateTime, nullable=False),  # on the server's clock: what tracing uses
    Column("clock_offset_ms", BigInteger, nullable=False),  # server - kiosk when the batch arrived
    Column("monotonic_ns", BigInteger, nullable=False),
    Column("source", String(FIELD_LIMITS["source"]), nullable=False),
    Column("flags", Text, nullable=False),  # JSON list
    Column("details", Text, nullable=False),  # JSON object
    Column("received_at", UTCDateTime, nullable=False),
    # The corrected time is before 2020 or > 24 h ahead (a kiosk whose clock was wrong when it scanned, e.g. a
    # dead CMOS battery): stored anyway (records are never lost), wall_time as the kiosk had it. Revision 0003.
    Column("clock_suspect", Boolean, nullable=False, server_default=false()),
    # SQLite's exactly-once. On PostgreSQL (revision 0006) `events` is partitioned by day with no key of its own:
    # exactly-once is `event_uuids` (server/partitions.py), which these models leave out, as they do partitions.
    PrimaryKeyConstraint("venue_id", "uuid", name="pk_events"),
    # The person's own visits: looked up by ID number across venues (one index probe per shard).
    Index("ix_events_person_time", "id_number", "corrected_time"),
    # Co-visitors: one venue, a time range.
    Index("ix_events_venue_time", "venue_id", "corrected_time"),
)

# Personal-QR signing keys: the one key table. GET /api/v1/keys publishes kid, alg, public_key and status only;
# the private half (generated here by `keys generate|rotate`) never leaves the server. A key imported with
# `keys import` (signed elsewhere) has no private half here.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("alg", String(20), nullable=False),
    Column("public_key", Text, nullable=False),  # base64: raw Ed25519 key or SPKI DER
    Column("status", String(10), nullable=False),  # "active", "retired" (verifies only), "revoked"
    Column("created_at", UTCDateTime, nullable=False),
    Column("private_key", Text),  # base64 PKCS#8 DER; NULL for an imported public key
    Column("encrypted", Boolean, nullable=False, server_default=false()),  # private_key under the passphrase
)

revocations = Table(
    "revocations",
    metadata,
    Column("kind", String(20), nullable=False),
    Column("value", String(200), nullable=False),
    Column("revoked_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("kind", "value", name="pk_revocations"),
)

trusted_certificates = Table(
    "trusted_certificates",
    metadata,
    Column("kid", String(64), nullable=False),
    Column("certificate", Text, nullable=False),  # base64 DER
    Column("fingerprint", String(64), primary_key=True),  # sha256 hex of the DER
    Column("added_at", UTCDateTime, nullable=False),
)

# Persons who declared or got a printed card. `id` is what the personal QR carries: opaque, random, not derived
# from personal data; the same ID number always maps to the same id.
persons = Table(
    "persons",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("full_name", String(200), nullable=False),
    # CCCD / CMND, optional (children, foreigners). Typed on the public page it is only a claim: several persons
    # may claim one number (revision 0005); one of them at most is `verified` (staff saw the papers).
    Column("id_number", String(20), index=True),
    Column("date_of_birth", Date),
    Column("phone", String(20)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("id_status", String(10), nullable=False, server_default="claimed"),  # claimed, verified, rejected
    Index(
        "ux_persons_verified_id_number",
        "id_number",
        unique=True,
        sqlite_where=text("id_status = 'verified'"),
        postgresql_where=text("id_status = 'verified'"),
    ),
)

declarations = Table(
    "declarations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(16), ForeignKey("persons.id"), nullable=False, index=True),
    Column("declared_at", UTCDateTime, nullable=False),
    Column("answers", Text, nullable=False),  # JSON {question key: bool}
    Column("symptoms", Boolean, nullable=False),  # any "yes"
    Column("kid", String(64), nullable=False),  # the key that signed its QR
    Column("qr_expires_at", UTCDateTime, nullable=False),
)

# The web console (revision 0007). Logins of people (an API token is for machines): scrypt password hashes.
console_users = Table(
    "console_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),  # "authority", "manager", "admin"
    Column("venue_id", Integer, ForeignKey("venues.id")),  # a manager's venue
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

# Server-side sessions: the cookie holds a random id, the table its sha256 (a copy of the table opens nothing).
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("console_users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

# Who looked at whom: every trace, export and view of a person's data. Append-only from the application.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("user_id", Integer),  # a console user, or NULL for an API token / the CLI
    Column("actor", String(200), nullable=False),  # "console:NAME", "token:ID", "cli"
    Column("role", String(20), nullable=False),
    Column("action", String(40), nullable=False),  # "trace", "trace_export", "person_view", ...
    Column("query", Text, nullable=False),  # JSON: what was asked
    Column("result_count", Integer, nullable=False),  # how many people were returned
    Column("client", String(64), nullable=False, server_default=""),
)

# The latest status each kiosk reported with a batch (revision 0008): one row per kiosk, replaced at every report.
# Ages the kiosk reported are stored as moments on the server's clock (received_at - age), so they stay right
# however wrong the kiosk's own clock is, and a page computes the age now without asking the kiosk again.
kiosk_status = Table(
    "kiosk_status",
    metadata,
    Column("kiosk_id", Integer, ForeignKey("kiosks.id"), primary_key=True),
    Column("venue_id", Integer, nullable=False, index=True),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("software_version", String(40)),
    Column("pending", Integer),  # events still waiting on the kiosk after this batch
    Column("refused", Integer),  # events the server refused, set aside on the kiosk
    Column("clock_offset_ms", BigInteger),  # the kiosk's own measurement (server - kiosk, at a request's midpoint)
    Column("config_fetched_at", UTCDateTime),
    Column("keys_fetched_at", UTCDateTime),
    Column("revocations_fetched_at", UTCDateTime),
    Column("trust_list_fetched_at", UTCDateTime),
)

# Each COVID safety self-assessment a venue made (revision 0008); the newest one's level is the venue's
# `safety_level`, which the kiosks show.
safety_assessments = Table(
    "safety_assessments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("venue_id", Integer, ForeignKey("venues.id"), nullable=False),
    Column("assessed_at", UTCDateTime, nullable=False),
    Column("assessed_by", String(200), nullable=False, server_default=""),
    Column("answers", Text, nullable=False),  # JSON {criterion key: "yes" | "no" | "na"}
    Column("score", Integer, nullable=False),  # percent of the applicable points met
    Column("level", String(10), nullable=False),
    Index("ix_safety_assessments_venue_time", "venue_id", "assessed_at"),
)
