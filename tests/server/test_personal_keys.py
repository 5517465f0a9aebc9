"""Personal-QR keys and declarations on both databases (SQLite and a real PostgreSQL): what kiosks receive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.credentials import trust
from kiosk.credentials.base import Credential, ParseContext, TrustMaterial
from kiosk.credentials.registry import parse_payload
from kiosk.rules import Outcome, Policy, decide
from server import admin
from server.cli import main as server_main
from server.db import open_database
from server.keys import active_signer, generate_key, import_public_key, list_keys, retire_key, rotate_key
from tests.support.server_env import ServerEnv

ANSWERS = dict.fromkeys(("fever", "cough", "breath", "throat", "taste_smell", "contact", "travel"), False)


def _material(env: ServerEnv) -> TrustMaterial:
    keys = env.client.get("/api/v1/keys", headers=env.headers()).json()
    people, kids = trust.parse_revocations(env.client.get("/api/v1/revocations", headers=env.headers()).json())
    return TrustMaterial(
        personal_keys=trust.parse_personal_keys(keys), revoked_personal_ids=people, revoked_personal_kids=kids
    )


def _outcome(env: ServerEnv, qr: str) -> tuple[Outcome, str]:
    now = datetime.now(UTC)
    parsed = parse_payload(qr.encode(), ParseContext(now=now, trust=_material(env)))
    assert isinstance(parsed, Credential)
    decision = decide(parsed, None, Policy(declaration_max_age=timedelta(hours=24)), 0, now)
    return decision.outcome, decision.reason_code


def _declare(env: ServerEnv, name: str) -> dict:
    answer = env.client.post(
        "/api/v1/declarations",
        json={"full_name": name, "id_number": "079095001234", "phone": "0901234567", "answers": ANSWERS},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_keys_lifecycle_and_declarations(env: ServerEnv) -> None:
    first = generate_key(env.engine)
    old = _declare(env, "Nguyễn Văn An")
    assert _outcome(env, old["qr"]) == (Outcome.ENTRY, "")
    second = rotate_key(env.engine)
    new = _declare(env, "Nguyễn Văn An")
    assert new["person_id"] == old["person_id"]
    assert {k.kid: k.status for k in list_keys(env.engine)} == {first: "retired", second: "active"}
    assert _outcome(env, old["qr"]) == (Outcome.ENTRY, "")
    retire_key(env.engine, first)
    assert _outcome(env, old["qr"]) == (Outcome.REJECTED, "unknown_key")
    assert _outcome(env, new["qr"]) == (Outcome.ENTRY, "")
    etag = env.client.get("/api/v1/keys", headers=env.headers()).headers["ETag"]
    assert env.client.get("/api/v1/keys", headers={**env.headers(), "If-None-Match": etag}).status_code == 304


def _public_b64() -> str:
    import base64

    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def test_one_key_family_on_the_command_line(server_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """keys generate|rotate|retire|list|import, `key add` as the alias of `keys import`, `revoke add --kind key`
    as `keys retire`: all on the one table that GET /api/v1/keys publishes."""
    db = ["--db", server_db_url]
    assert (
        server_main(["keys", "import", *db, "--kid", "OFFLINE1", "--alg", "Ed25519", "--public-key", _public_b64()])
        == 0
    )
    assert (
        server_main(
            [
                "key",
                "add",
                *db,
                "--kid",
                "OFFLINE2",
                "--alg",
                "Ed25519",
                "--public-key",
                _public_b64(),
                "--status",
                "retired",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert server_main(["keys", "generate", *db]) == 0  # imported active keys do not count: not signed here
    generated = capsys.readouterr().out.strip()
    assert server_main(["keys", "rotate", *db]) == 0
    rotated = capsys.readouterr().out.strip().splitlines()[-1]
    assert server_main(["keys", "list", *db]) == 0
    listed = {line.split("\t")[0]: line.split("\t")[2:5:2] for line in capsys.readouterr().out.splitlines()}
    assert listed == {
        "OFFLINE1": ["active (signs and verifies)", "public only"],
        "OFFLINE2": ["retired (verifies only)", "public only"],
        generated: ["retired (verifies only)", "private key held"],
        rotated: ["active (signs and verifies)", "private key held"],
    }
    assert server_main(["revoke", "add", *db, "--kind", "key", "--value", "OFFLINE1"]) == 0
    assert server_main(["keys", "retire", *db, generated]) == 0
    engine = open_database(server_db_url)
    with engine.connect() as conn:
        published = {k.kid: k.status for k in admin.list_keys(conn)}
        revoked = {(r.kind, r.value) for r in admin.list_revocations(conn)}
    assert published == {"OFFLINE1": "revoked", "OFFLINE2": "retired", generated: "revoked", rotated: "active"}
    assert revoked == {("key", "OFFLINE1"), ("key", generated)}
    assert active_signer(engine)[0] == rotated  # an imported key never signs here
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keys", "retire", "NOPE"), "no signing key 'NOPE'"),
        (("revoke", "add", "--kind", "key", "--value", "NOPE"), "no signing key 'NOPE'"),
        (("keys", "import", "--kid", "X", "--alg", "Ed25519", "--public-key", "bm90IGEga2V5"), "public key:"),
        (("key", "add", "--kid", "X", "--alg", "Ed25519", "--public-key", "%%%"), "public key:"),
    ],
)
def test_key_mistakes_are_one_line(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    assert server_main([*args[:2], "--db", sqlite_url, *args[2:]]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


def test_duplicate_import_is_refused(sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    import_public_key(engine, "K1", "Ed25519", _public_b64())
    with pytest.raises(admin.Invalid, match="exists already"):
        import_public_key(engine, "K1", "Ed25519", _public_b64())
