"""The server's personal-QR side: signing keys (generate, rotate, retire), the declaration API and page, cards.

Real parts: a SQLite file, the FastAPI app through TestClient, the kiosk's own parser, rules and QR decoder.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kiosk.credentials import trust
from kiosk.credentials.base import Credential, ParseContext, TrustMaterial
from kiosk.credentials.registry import parse_payload
from kiosk.decode import make_chain
from kiosk.rules import Outcome, Policy, decide
from server import admin
from server.app import create_app
from server.cli import main as server_main
from server.db import open_database
from server.keys import NoSigningKey, generate_key, list_keys, retire_key, rotate_key
from server.settings import ServerSettings

ANSWERS_NO = {
    "fever": False,
    "cough": False,
    "breath": False,
    "throat": False,
    "taste_smell": False,
    "contact": False,
    "travel": False,
}
POLICY = Policy(declaration_max_age=timedelta(hours=24))


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_database(f"sqlite:///{tmp_path / 'server.db'}")


@pytest.fixture
def client(engine: Engine) -> TestClient:
    return TestClient(create_app(ServerSettings(db_url=str(engine.url)), engine))


def _kiosk_headers(engine: Engine) -> dict[str, str]:
    venue = admin.add_venue(engine, "Chợ Bến Thành")
    _, code = admin.add_kiosk(engine, venue, "cổng 1")
    response = admin.enroll(engine, code, datetime.now(UTC))
    assert response is not None
    return {"Authorization": f"Bearer {response.token}"}


def _kiosk_trust(client: TestClient, headers: dict[str, str]) -> TrustMaterial:
    """What a kiosk builds from the server's answers (the same parsers the sync client uses)."""
    keys = client.get("/api/v1/keys", headers=headers)
    revocations = client.get("/api/v1/revocations", headers=headers)
    assert keys.status_code == 200 and revocations.status_code == 200
    people, kids = trust.parse_revocations(revocations.json())
    return trust.merge(
        TrustMaterial(personal_keys=trust.parse_personal_keys(keys.json())),
        TrustMaterial(revoked_personal_ids=people, revoked_personal_kids=kids),
    )


def _station(qr: str | bytes, material: TrustMaterial, now: datetime | None = None) -> tuple[Credential, Outcome, str]:
    now = now or datetime.now(UTC)
    data = qr.encode() if isinstance(qr, str) else qr
    parsed = parse_payload(data, ParseContext(now=now, trust=material))
    decision = decide(parsed, None, POLICY, 0, now)
    assert isinstance(parsed, Credential), parsed
    return parsed, decision.outcome, decision.reason_code


def _declare(client: TestClient, **changes: object) -> dict:
    body = {
        "full_name": "Nguyễn Thị Phương Thảo",
        "id_number": "079195001234",
        "phone": "0901 234 567",
        "date_of_birth": "1995-03-12",
        "answers": dict(ANSWERS_NO),
    }
    body.update(changes)
    response = client.post("/api/v1/declarations", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_no_key_no_qr(client: TestClient, engine: Engine) -> None:
    response = client.post("/api/v1/declarations", json={"full_name": "An", "answers": ANSWERS_NO})
    assert response.status_code == 503
    with pytest.raises(NoSigningKey):
        from server.keys import active_signer

        active_signer(engine)


def test_declare_through_the_api_and_get_admitted(client: TestClient, engine: Engine) -> None:
    generate_key(engine)
    answer = _declare(client)
    assert answer["qr"].startswith("QC1:") and answer["symptoms"] is False
    credential, outcome, _ = _station(answer["qr"], _kiosk_trust(client, _kiosk_headers(engine)))
    assert outcome is Outcome.ENTRY
    assert credential.id_number == answer["person_id"] and credential.full_name == "Nguyễn Thị Phương Thảo"
    assert credential.declaration is not None and credential.declaration.symptoms is False
    # The PNG in the answer is a real QR the station's decoder reads.
    image = cv2.imdecode(np.frombuffer(base64.b64decode(answer["png_base64"]), np.uint8), cv2.IMREAD_GRAYSCALE)
    codes = make_chain().decode(image)
    assert [code.data for code in codes] == [answer["qr"].encode()]


def test_same_id_number_same_person(client: TestClient, engine: Engine) -> None:
    generate_key(engine)
    assert _declare(client)["person_id"] == _declare(client, phone="0912345678")["person_id"]
    assert _declare(client)["person_id"] != _declare(client, id_number="001099012345")["person_id"]


def test_symptoms_are_carried_and_refused(client: TestClient, engine: Engine) -> None:
    generate_key(engine)
    answer = _declare(client, answers={**ANSWERS_NO, "cough": True})
    assert answer["symptoms"] is True
    _, outcome, reason = _station(answer["qr"], _kiosk_trust(client, _kiosk_headers(engine)))
    assert (outcome, reason) == (Outcome.REJECTED, "symptoms")


def test_old_declaration_needs_a_new_one(client: TestClient, engine: Engine) -> None:
    generate_key(engine)
    answer = _declare(client)
    later = datetime.now(UTC) + timedelta(hours=25)
    _, outcome, reason = _station(answer["qr"], _kiosk_trust(client, _kiosk_headers(engine)), now=later)
    assert (outcome, reason) == (Outcome.REJECTED, "needs_declaration")


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"id_number": "12345"}, "ID number"),
        ({"phone": "abc"}, "phone"),
        ({"full_name": "X"}, "full name"),
        ({"answers": {"fever": False}}, "cough"),
    ],
)
def test_bad_declarations_are_refused_with_a_reason(
    client: TestClient, engine: Engine, changes: dict, fragment: str
) -> None:
    generate_key(engine)
    body = {"full_name": "Lê Văn Tám", "phone": "0901234567", "answers": ANSWERS_NO, **changes}
    response = client.post("/api/v1/declarations", json=body)
    assert response.status_code == 422 and fragment in response.text


def test_rotation_keeps_old_codes_until_the_key_is_retired(client: TestClient, engine: Engine) -> None:
    first = generate_key(engine)
    with pytest.raises(admin.Invalid):
        generate_key(engine)
    old_qr = _declare(client)["qr"]
    second = rotate_key(engine)
    statuses = {key.kid: key.status for key in list_keys(engine)}
    assert statuses == {first: "retired", second: "active"}
    new_qr = _declare(client)["qr"]
    headers = _kiosk_headers(engine)
    material = _kiosk_trust(client, headers)
    assert _station(old_qr, material)[0].verification.signer == first  # type: ignore[union-attr]
    assert _station(old_qr, material)[1] is Outcome.ENTRY
    assert _station(new_qr, material)[1] is Outcome.ENTRY
    retire_key(engine, first)
    material = _kiosk_trust(client, headers)
    assert _station(old_qr, material)[1:] == (Outcome.REJECTED, "unknown_key")
    assert _station(new_qr, material)[1] is Outcome.ENTRY


def test_revoked_person(client: TestClient, engine: Engine) -> None:
    generate_key(engine)
    answer = _declare(client)
    admin.add_revocation(engine, "person", answer["person_id"])
    _, outcome, reason = _station(answer["qr"], _kiosk_trust(client, _kiosk_headers(engine)))
    assert (outcome, reason) == (Outcome.REJECTED, "revoked")


def test_private_keys_are_not_served(client: TestClient, engine: Engine) -> None:
    generate_key(engine)
    body = client.get("/api/v1/keys", headers=_kiosk_headers(engine)).text
    assert "PRIVATE" not in body and "private" not in body
    assert set(client.get("/api/v1/keys", headers=_kiosk_headers(engine)).json()["keys"][0]) == {
        "kid",
        "alg",
        "public_key",
        "status",
    }


def test_the_form_page(client: TestClient, engine: Engine) -> None:
    page = client.get("/declare")
    assert page.status_code == 200 and 'lang="vi"' in page.text and "Khai báo y tế" in page.text
    assert "Health declaration" in client.get("/declare?lang=en").text
    generate_key(engine)
    form = {"full_name": "Trần <b>Bình</b>", "phone": "0901234567", "pledge": "yes", **dict.fromkeys(ANSWERS_NO, "no")}
    result = client.post("/declare", data=form)
    assert result.status_code == 200
    assert "Trần &lt;b&gt;Bình&lt;/b&gt;" in result.text and "<b>Bình" not in result.text  # escaped
    png = re.search(r'id="qr" alt="QR" src="data:image/png;base64,([^"]+)"', result.text)
    assert png is not None
    image = cv2.imdecode(np.frombuffer(base64.b64decode(png.group(1)), np.uint8), cv2.IMREAD_GRAYSCALE)
    codes = make_chain().decode(image)
    assert len(codes) == 1 and codes[0].data.startswith(b"QC1:")
    unsure = client.post("/declare", data={**form, "pledge": "", "cough": ""})
    assert unsure.status_code == 422 and 'id="error"' in unsure.text


def test_cli_keys_and_printed_card(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert server_main(["keys", "generate", "--db", db]) == 0
    kid = capsys.readouterr().out.strip()
    assert server_main(["keys", "generate", "--db", db]) == 1
    assert "keys rotate" in capsys.readouterr().err
    card = tmp_path / "card.png"
    assert (
        server_main(
            ["person", "card", "--db", db, "--name", "Đặng Thị Lụa", "--id-number", "001160004321", "--out", str(card)]
        )
        == 0
    )
    person_id = capsys.readouterr().out.strip().splitlines()[-1]
    assert server_main(["keys", "list", "--db", db]) == 0
    assert kid in capsys.readouterr().out
    image = cv2.imread(str(card))
    assert image.shape[:2] == (1748, 1240)  # A6 portrait at 300 dpi
    codes = make_chain().decode(image)
    assert len(codes) == 1
    keys = list_keys(open_database(db))
    material = TrustMaterial(
        personal_keys={k.kid: trust.parse_public_key(k.alg, _public(open_database(db), k.kid)) for k in keys}
    )
    parsed = parse_payload(codes[0].data, ParseContext(now=datetime.now(UTC), trust=material))
    assert isinstance(parsed, Credential) and parsed.id_number == person_id and parsed.full_name == "Đặng Thị Lụa"
    assert decide(parsed, None, Policy(), 0, datetime.now(UTC)).outcome is Outcome.ENTRY
    assert (
        server_main(
            [
                "person",
                "card",
                "--db",
                db,
                "--name",
                "Đặng Thị Lụa",
                "--id-number",
                "001160004321",
                "--out",
                str(tmp_path / "card.pdf"),
            ]
        )
        == 0
    )
    assert (tmp_path / "card.pdf").read_bytes().startswith(b"%PDF")
    assert capsys.readouterr().out.strip() == person_id  # same ID number, same person


def _public(engine: Engine, kid: str) -> str:
    with engine.connect() as conn:
        return next(k.public_key for k in admin.list_keys(conn) if k.kid == kid)


def test_private_keys_encrypted_with_a_passphrase(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import select

    from server.keys import PASSPHRASE_ENV, active_signer
    from server.models import signing_keys as private_keys

    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
    kid = generate_key(engine)
    with engine.connect() as conn:
        row = conn.execute(select(private_keys).where(private_keys.c.kid == kid)).one()
    assert row.encrypted is True
    assert active_signer(engine)[0] == kid
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(NoSigningKey, match=PASSPHRASE_ENV):
        active_signer(engine)
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(NoSigningKey, match="cannot be decrypted"):
        active_signer(engine)
