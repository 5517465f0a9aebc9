"""Alembic revisions against the models, and the upgrade of a database left at 0001 (SQLite and PostgreSQL).

Before revision 0002 the personal-QR tables (`signing_private_keys`, `persons`, `declarations`) were created on
first use, outside Alembic. `OLD_FIRST_USE` below is a frozen copy of those definitions as they were shipped, so
the test builds exactly what a server in the field may hold.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
)

from server import db
from server.models import UTCDateTime, declarations, events, metadata, persons, signing_keys, venues

OLD_FIRST_USE = MetaData()
Table(
    "signing_private_keys",
    OLD_FIRST_USE,
    Column("kid", String(64), primary_key=True),
    Column("private_key", Text, nullable=False),
    Column("encrypted", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Table(
    "persons",
    OLD_FIRST_USE,
    Column("id", String(16), primary_key=True),
    Column("full_name", String(200), nullable=False),
    Column("id_number", String(20), index=True),
    Column("date_of_birth", Date),
    Column("phone", String(20)),
    Column("created_at", UTCDateTime, nullable=False),
)
Table(
    "declarations",
    OLD_FIRST_USE,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(16), ForeignKey("persons.id"), nullable=False, index=True),
    Column("declared_at", UTCDateTime, nullable=False),
    Column("answers", Text, nullable=False),
    Column("symptoms", Boolean, nullable=False),
    Column("kid", String(64), nullable=False),
    Column("qr_expires_at", UTCDateTime, nullable=False),
)
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
ANSWERS = dict.fromkeys(("fever", "cough", "breath", "throat", "taste_smell", "contact", "travel"), False)


def _fresh_engine(url: str) -> Engine:
    db._migrated.discard(str(db.make_engine(url).url))
    return db.make_engine(url)


def _upgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.upgrade(db.alembic_config(conn), revision)


def _downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.downgrade(db.alembic_config(conn), revision)


def _head() -> str:
    """The newest revision, whatever its name (several branches add revisions)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(db.alembic_config(None)).get_current_head()
    assert head is not None
    return head


def _revision(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def _outside_the_models(name: str | None, kind: str, _parent: object) -> bool:
    """PostgreSQL's day partitions of `events` and `event_uuids` (revisions 0006, 0009) are made by
    server/partitions.py, not described by the models: the comparison leaves them out."""
    defaults = ("event_uuids", "events_default", "event_uuids_default")
    made_by_partitions = name in defaults or re.fullmatch(r"(events|event_uuids)_p\d{8}", str(name))
    return not (kind == "table" and made_by_partitions)


def _schema_diff(engine: Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _outside_the_models})
        return compare_metadata(context, metadata)


def _old_key() -> tuple[str, str]:
    """(public, private) as the 0001-era code stored them: base64 raw public key, base64 PKCS#8 DER."""
    key = ed25519.Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    private = base64.b64encode(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())).decode()
    return public, private


def _seed_0001(engine: Engine, *, first_use_tables: bool) -> dict[str, str]:
    """A venue, an event, an imported key and, with the first-use tables, a generated key, a person and a
    declaration: what a server at 0001 may hold."""
    public, private = _old_key()
    imported_public, _ = _old_key()
    with engine.begin() as conn:
        conn.execute(venues.insert().values(id=1, name="Phở Hà Nội", created_at=NOW, station_config="{}"))
        conn.execute(
            text(
                "INSERT INTO events (venue_id, uuid, kiosk_id, direction, credential, person_key, id_number, "
                "full_name, wall_time, corrected_time, clock_offset_ms, monotonic_ns, source, flags, details, "
                "received_at) VALUES (1, 'e-1', 1, 'entry', 'cccd', 'pk', '079095001234', 'Nguyễn Văn An', "
                ":t, :t, 0, 1, 'camera', '[]', '{}', :t)"
            ),
            {"t": NOW.replace(tzinfo=None) if conn.dialect.name == "sqlite" else NOW},
        )
        keys_0001 = Table("signing_keys", MetaData(), autoload_with=conn)
        conn.execute(
            keys_0001.insert().values(
                kid="IMPORTED", alg="Ed25519", public_key=imported_public, status="retired", created_at=NOW
            )
        )
        if not first_use_tables:
            return {}
        OLD_FIRST_USE.create_all(conn)
        old = OLD_FIRST_USE.tables
        conn.execute(
            keys_0001.insert().values(
                kid="K261120ABCD", alg="Ed25519", public_key=public, status="active", created_at=NOW
            )
        )
        conn.execute(
            old["signing_private_keys"]
            .insert()
            .values(kid="K261120ABCD", private_key=private, encrypted=False, created_at=NOW)
        )
        conn.execute(
            old["persons"]
            .insert()
            .values(
                id="PABCDEFGHJKM",
                full_name="Nguyễn Văn An",
                id_number="079095001234",
                phone="0901234567",
                created_at=NOW,
            )
        )
        conn.execute(
            old["declarations"]
            .insert()
            .values(
                person_id="PABCDEFGHJKM",
                declared_at=NOW,
                answers=json.dumps(ANSWERS),
                symptoms=False,
                kid="K261120ABCD",
                qr_expires_at=NOW + timedelta(days=7),
            )
        )
    return {"kid": "K261120ABCD", "public": public, "private": private}


def test_models_and_migrations_agree(server_db_url: str) -> None:
    engine = _fresh_engine(server_db_url)
    db.migrate(engine)
    assert _schema_diff(engine) == []
    engine.dispose()


@pytest.mark.parametrize("first_use_tables", [True, False], ids=["with-first-use-tables", "without"])
def test_upgrade_from_0001_keeps_data(server_db_url: str, first_use_tables: bool) -> None:
    from server.declarations import PersonInput, declare
    from server.keys import active_signer, list_keys

    engine = _fresh_engine(server_db_url)
    _upgrade(engine, "0001")
    seeded = _seed_0001(engine, first_use_tables=first_use_tables)
    db.migrate(engine)

    assert _revision(engine) == _head()
    assert "signing_private_keys" not in inspect(engine).get_table_names()
    assert _schema_diff(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(venues.c.name)).scalar_one() == "Phở Hà Nội"
        assert conn.execute(select(events.c.uuid, events.c.corrected_time)).one() == ("e-1", NOW)
        imported = conn.execute(select(signing_keys).where(signing_keys.c.kid == "IMPORTED")).one()
        assert (imported.status, imported.private_key, imported.encrypted) == ("retired", None, False)
        if first_use_tables:
            key = conn.execute(select(signing_keys).where(signing_keys.c.kid == seeded["kid"])).one()
            assert (key.public_key, key.private_key, key.encrypted) == (seeded["public"], seeded["private"], False)
            assert conn.execute(select(persons.c.id, persons.c.full_name)).one() == ("PABCDEFGHJKM", "Nguyễn Văn An")
            assert conn.execute(select(declarations.c.person_id, declarations.c.declared_at)).one() == (
                "PABCDEFGHJKM",
                NOW,
            )
    held = {k.kid: k.has_private_key for k in list_keys(engine)}
    if not first_use_tables:
        assert held == {"IMPORTED": False}
        engine.dispose()
        return
    assert held == {"IMPORTED": False, seeded["kid"]: True}
    kid, private = active_signer(engine)  # the migrated private half still signs
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert (kid, base64.b64encode(public).decode()) == (seeded["kid"], seeded["public"])
    issued = declare(engine, PersonInput("Nguyễn Văn An", "079095001234", None, "0901234567"), ANSWERS)
    assert issued.person_id == "PABCDEFGHJKM"  # the person from before the upgrade
    engine.dispose()


def test_downgrade_to_0001_and_back_keeps_private_keys(server_db_url: str) -> None:
    engine = _fresh_engine(server_db_url)
    _upgrade(engine, "0001")
    seeded = _seed_0001(engine, first_use_tables=True)
    _upgrade(engine, "head")
    _downgrade(engine, "0001")
    with engine.connect() as conn:
        old = Table("signing_private_keys", MetaData(), autoload_with=conn)
        assert conn.execute(select(old.c.kid, old.c.private_key)).one() == (seeded["kid"], seeded["private"])
        assert "private_key" not in {c["name"] for c in inspect(conn).get_columns("signing_keys")}
    _upgrade(engine, "head")
    assert _schema_diff(engine) == []
    with engine.connect() as conn:
        assert (
            conn.execute(select(signing_keys.c.private_key).where(signing_keys.c.kid == seeded["kid"])).scalar_one()
            == seeded["private"]
        )
        assert conn.execute(select(persons.c.id)).scalar_one() == "PABCDEFGHJKM"
    engine.dispose()


def test_upgrade_to_0003_keeps_one_person_per_id_number(server_db_url: str) -> None:
    """Duplicates made by concurrent declarations before 0003: the oldest person keeps the number, the later one
    stays (its declarations and QRs are still valid) without it; events get clock_suspect = false."""
    engine = _fresh_engine(server_db_url)
    _upgrade(engine, "0002")
    with engine.begin() as conn:
        for person_id, created in (("PLATERXXXXXX", NOW + timedelta(seconds=1)), ("POLDERXXXXXX", NOW)):
            conn.execute(
                persons.insert().values(
                    id=person_id, full_name="Nguyễn Văn An", id_number="079095001234", created_at=created
                )
            )
        conn.execute(persons.insert().values(id="PNONUMBERXXX", full_name="Bé An", id_number=None, created_at=NOW))
    _upgrade(engine, "head")
    assert _revision(engine) == _head()
    assert _schema_diff(engine) == []
    with engine.connect() as conn:
        numbers = dict(conn.execute(select(persons.c.id, persons.c.id_number)).all())
    assert numbers == {"POLDERXXXXXX": "079095001234", "PLATERXXXXXX": None, "PNONUMBERXXX": None}
    _downgrade(engine, "0002")
    _upgrade(engine, "head")
    assert _schema_diff(engine) == []
    engine.dispose()


def test_0004_maps_stored_questionnaire_words_both_ways(server_db_url: str) -> None:
    """Venues configured with the server's old words (off / ask / require) read the kiosk's after 0004, and the
    old words come back on a downgrade; other settings and venues without a policy are left as they were."""
    engine = _fresh_engine(server_db_url)
    _upgrade(engine, "0003")
    stored = {
        1: {"questionnaire_policy": "require", "mode": "entry"},
        2: {"questionnaire_policy": "off"},
        3: {"capacity": 40},
    }
    with engine.begin() as conn:
        for venue_id, config in stored.items():
            conn.execute(
                venues.insert().values(
                    id=venue_id, name=f"V{venue_id}", created_at=NOW, station_config=json.dumps(config)
                )
            )

    def configs() -> dict[int, dict]:
        with engine.connect() as conn:
            return {row.id: json.loads(row.station_config) for row in conn.execute(select(venues))}

    _upgrade(engine, "0004")
    assert configs() == {
        1: {"questionnaire_policy": "always", "mode": "entry"},
        2: {"questionnaire_policy": "never"},
        3: {"capacity": 40},
    }
    _downgrade(engine, "0003")
    assert configs() == stored


def test_0005_makes_numbers_claims_and_gives_tokens_a_life(server_db_url: str) -> None:
    """Persons from before 0005 become `claimed`; after it, several persons may claim one number but only one is
    verified; tokens gain expires_at / last_used_at. The downgrade restores one person per number (the oldest
    claim keeps it) and the upgrade after it agrees with the models."""
    from sqlalchemy.exc import IntegrityError

    from server.models import tokens

    engine = _fresh_engine(server_db_url)
    _upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(venues.insert().values(id=1, name="V", created_at=NOW, station_config="{}"))
        conn.execute(
            persons.insert().values(id="POLDERXXXXXX", full_name="An", id_number="079095001234", created_at=NOW)
        )
        conn.execute(
            text("INSERT INTO tokens (token_hash, role, name, created_at) VALUES ('h1', 'authority', '', :t)"),
            {"t": NOW.replace(tzinfo=None) if conn.dialect.name == "sqlite" else NOW},
        )
    _upgrade(engine, "head")  # through 0005
    assert _schema_diff(engine) == []
    with engine.begin() as conn:
        assert conn.execute(select(persons.c.id_status)).scalar_one() == "claimed"
        assert conn.execute(select(tokens.c.expires_at, tokens.c.last_used_at)).one() == (None, None)
        conn.execute(
            persons.insert().values(
                id="PLATERXXXXXX", full_name="Kẻ", id_number="079095001234", created_at=NOW + timedelta(seconds=1)
            )
        )
        conn.execute(persons.update().where(persons.c.id == "POLDERXXXXXX").values(id_status="verified"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(persons.update().where(persons.c.id == "PLATERXXXXXX").values(id_status="verified"))
    _downgrade(engine, "0004")
    with engine.connect() as conn:
        numbers = dict(conn.execute(text("SELECT id, id_number FROM persons")).all())
    assert numbers == {"POLDERXXXXXX": "079095001234", "PLATERXXXXXX": None}
    _upgrade(engine, "head")
    assert _revision(engine) == _head() and _schema_diff(engine) == []
    engine.dispose()


def test_0008_adds_fleet_status_and_safety_assessments_and_downgrades(server_db_url: str) -> None:
    """The kiosk status and safety assessment tables come and go with their revision; the rest is untouched."""
    engine = _fresh_engine(server_db_url)
    _upgrade(engine, "head")
    tables = set(inspect(engine).get_table_names())
    assert {"kiosk_status", "safety_assessments"} <= tables
    _downgrade(engine, "0008-1")
    assert not {"kiosk_status", "safety_assessments"} & set(inspect(engine).get_table_names())
    _upgrade(engine, "head")
    assert _schema_diff(engine) == []
    engine.dispose()
