"""Personal-QR keys and declarations on both databases (SQLite and a real PostgreSQL): what kiosks receive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server_support import ServerEnv

from kiosk.credentials import trust
from kiosk.credentials.base import Credential, ParseContext, TrustMaterial
from kiosk.credentials.registry import parse_payload
from kiosk.rules import Outcome, Policy, decide
from sync.server.keys import generate_key, list_keys, retire_key, rotate_key

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
