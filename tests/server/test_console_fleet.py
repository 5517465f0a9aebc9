"""The fleet page through the app (TestClient, SQLite and PostgreSQL): states and their order, enrolment with
its code and QR on the page, revocation that the kiosk feels at its next request."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from server import admin
from server.app import create_app
from server.db import open_database
from server.models import kiosks
from server.settings import ServerSettings
from sync import protocol
from tests.support.console import login_client, make_login, page_csrf


@pytest.fixture
def client(server_db_url: str) -> Iterator[tuple[TestClient, int]]:
    engine = open_database(server_db_url)
    venue_id = admin.add_venue(engine, "Bến xe Miền Đông")
    make_login(engine, "admin", "quan")
    with TestClient(create_app(ServerSettings(db_url=server_db_url), engine)) as test_client:
        assert login_client(test_client, "quan").status_code == 303
        yield test_client, venue_id
    engine.dispose()


def _enrol(client: TestClient, venue_id: int, name: str) -> tuple[str, str]:
    token = page_csrf(client, "/console/fleet")
    form = {"csrf_token": token, "venue_id": str(venue_id), "name": name, "valid_hours": "24", "server_url": ""}
    page = client.post("/console/fleet/enrol", data=form)
    assert page.status_code == 200, page.text
    code = re.search(r'id="enrol-code">([A-Z0-9-]+)<', page.text)
    qr = re.search(r'src="data:image/png;base64,([^"]+)"', page.text)
    assert code and qr
    return code.group(1), qr.group(1)


def test_enrol_shows_a_code_and_qr_that_enrol_a_kiosk_and_revoke_stops_it(client: tuple[TestClient, int]) -> None:
    import io

    import zxingcpp
    from PIL import Image

    test_client, venue_id = client
    code, qr = _enrol(test_client, venue_id, "Cổng số 3")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(qr))))
    assert decoded and decoded[0].text == f"QRCK-ENROLL:{code.replace('-', '')}"  # the QR holds the code
    enrolled = test_client.post(protocol.ENROLL_PATH, json={"code": code})
    assert enrolled.status_code == 200
    token, kiosk_id = enrolled.json()["token"], enrolled.json()["kiosk_id"]
    kiosk = {"Authorization": f"Bearer {token}"}
    assert test_client.get(protocol.CONFIG_PATH, headers=kiosk).status_code == 200
    page = test_client.get("/console/fleet")
    assert "Cổng số 3" in page.text and f'data-kiosk="{kiosk_id}"' in page.text
    csrf = page_csrf(test_client, "/console/fleet")
    asked = test_client.post(f"/console/fleet/{kiosk_id}/revoke", data={"csrf_token": csrf})
    assert asked.status_code == 200 and "Cổng số 3" in asked.text and 'name="confirm" value="yes"' in asked.text
    assert test_client.get(protocol.CONFIG_PATH, headers=kiosk).status_code == 200  # asking revoked nothing
    revoked = test_client.post(
        f"/console/fleet/{kiosk_id}/revoke", data={"csrf_token": csrf, "confirm": "yes"}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert test_client.get(protocol.CONFIG_PATH, headers=kiosk).status_code == 401
    assert 'class="state revoked"' in test_client.get(f"/console/fleet?revoked={kiosk_id}").text
    forged = test_client.post(f"/console/fleet/{kiosk_id}/revoke", data={"csrf_token": "x", "confirm": "yes"})
    assert forged.status_code == 403


def test_silent_kiosks_come_first_with_why(client: tuple[TestClient, int], server_db_url: str) -> None:
    test_client, venue_id = client
    tokens = []
    for name in ("Cổng A", "Cổng B"):
        code, _ = _enrol(test_client, venue_id, name)
        tokens.append(test_client.post(protocol.ENROLL_PATH, json={"code": code}).json())
    for enrolled in tokens:
        body = protocol.encode_batch([], datetime.now(UTC), {"pending": 0, "ages_s": {"keys": 1.0, "trust-list": 1.0}})
        answer = test_client.post(
            protocol.EVENTS_PATH, content=body, headers={"Authorization": f"Bearer {enrolled['token']}"}
        )
        assert answer.status_code == 200
    quiet = int(tokens[1]["kiosk_id"])
    with open_database(server_db_url).begin() as conn:
        conn.execute(
            update(kiosks).where(kiosks.c.id == quiet).values(last_seen_at=datetime.now(UTC) - timedelta(hours=3))
        )
    page = test_client.get("/console/fleet?lang=en").text
    rows = re.findall(r'<tr class="(\w+)" data-kiosk="(\d+)"', page)
    assert rows[0] == ("offline", str(quiet)) and rows[1] == ("ok", tokens[0]["kiosk_id"])
    assert "silent over an hour" in page and "3 h ago" in page


def test_bad_enrolment_forms_say_what_is_wrong(client: tuple[TestClient, int]) -> None:
    test_client, venue_id = client
    token = page_csrf(test_client, "/console/fleet")
    for form, message in (
        ({"venue_id": "", "valid_hours": "24"}, "Chọn địa điểm"),
        ({"venue_id": str(venue_id), "valid_hours": "0"}, "Thời hạn mã"),
        ({"venue_id": "999", "valid_hours": "24"}, "Không có địa điểm này"),
        ({"venue_id": str(venue_id), "server_url": "ftp://x"}, "https://"),
    ):
        answer = test_client.post("/console/fleet/enrol", data={"csrf_token": token, **form})
        assert answer.status_code == 422 and message in answer.text, form
