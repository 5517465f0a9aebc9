"""The console's trace (TestClient over SQLite and PostgreSQL): every way to find a person, the co-visitors
with names, phones and how sure each identity is, the timeline, the second degree, exports, the audit log."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.app import create_app
from server.db import open_database
from server.models import audit_log
from server.settings import ServerSettings
from tests.support.console import login_client, make_login, page_csrf
from tests.support.console_scene import DECLARED_PHONE, SUBJECT, TYPED_PHONE, Scene, seed_scene

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def traced(server_db_url: str) -> Iterator[tuple[TestClient, Scene]]:
    engine = open_database(server_db_url)
    scene = seed_scene(engine)
    make_login(engine, "authority", "bs.lan")
    make_login(engine, "manager", "quan.ly", scene.market)
    with TestClient(create_app(ServerSettings(db_url=server_db_url), engine)) as client:
        login_client(client, "bs.lan")
        yield client, scene
    engine.dispose()


def _window(scene: Scene) -> dict[str, str]:
    """The day of the visit to the day after the second-degree meeting, as datetime-local fields (local time)."""
    local = scene.visit_start.astimezone(ZONE)
    return {
        "from": (local - timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"),
        "to": (local + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    }


def _trace(client: TestClient, scene: Scene, **fields: str):  # noqa: ANN202
    form = {"csrf_token": page_csrf(client, "/console/trace"), **_window(scene), **fields}
    return client.post("/console/trace", data=form)


def _audit(client: TestClient) -> list[dict[str, object]]:
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        return [dict(row._mapping) for row in conn.execute(select(audit_log).order_by(audit_log.c.id))]


def test_trace_by_id_number_shows_co_visitors_with_names_phones_and_certainty(traced: tuple[TestClient, Scene]) -> None:
    client, scene = traced
    page = _trace(client, scene, id_number=SUBJECT)
    assert page.status_code == 200, page.text
    html = page.text
    for name in ("Lê Văn Cường", "Phạm Thị Dung", "Võ Minh Em"):
        assert name in html
    assert "Hồ Văn Xa" not in html  # came five hours later
    assert "=cmd|&#39; /C calc&#39;!A0" in html  # escaped, never markup
    assert TYPED_PHONE in html and DECLARED_PHONE in html
    assert "Giấy tờ đã quét" in html and "Tự khai báo" in html and "Nhân viên nhập tay" in html
    local_entry = scene.visit_start.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    assert local_entry in html  # times in the server's zone (17:00, not 10:00 UTC)
    assert "<svg" in html and 'class="timeline"' in html
    entry = _audit(client)[-1]
    assert entry["action"] == "trace" and entry["actor"] == "console:bs.lan" and entry["role"] == "authority"
    assert json.loads(str(entry["query"]))["id_number"] == SUBJECT
    assert entry["result_count"] == 5  # the traced person and four co-visitors


def test_trace_by_phone_and_by_name_and_birth_date(traced: tuple[TestClient, Scene]) -> None:
    client, scene = traced
    by_phone = _trace(client, scene, phone="0987 654 321").text  # Võ Minh Em's declared phone, typed with spaces
    assert "Chợ Bến Thành" in by_phone and "Trần Thị Bích" in by_phone  # he met her
    assert f'href="tel:{DECLARED_PHONE}">{DECLARED_PHONE}</a> <span class="badge' in by_phone  # his own, by his name
    by_name = _trace(client, scene, full_name="tran thi bich", date_of_birth="1985-03-02").text
    assert "Lê Văn Cường" in by_name and "Võ Minh Em" in by_name
    nobody = _trace(client, scene, full_name="Trần Thị Bích", date_of_birth="1999-01-01").text
    assert 'id="no-visits"' in nobody
    assert [e["action"] for e in _audit(client)] == ["trace"] * 3


def test_everyone_at_a_venue_in_a_window(traced: tuple[TestClient, Scene]) -> None:
    client, scene = traced
    local = scene.visit_start.astimezone(ZONE)
    window = {
        "from": local.strftime("%Y-%m-%dT%H:%M"),
        "to": (local + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M"),
    }
    form = {"csrf_token": page_csrf(client, "/console/trace"), "venue_id": str(scene.market), **window}
    html = client.post("/console/trace", data=form).text
    assert "Trần Thị Bích" in html and "Phạm Thị Dung" in html and "=cmd" in html
    assert "Lê Văn Cường" not in html  # came at 10:30
    assert _audit(client)[-1]["result_count"] == 3


def test_second_degree(traced: tuple[TestClient, Scene]) -> None:
    client, scene = traced
    html = _trace(client, scene, id_number=SUBJECT, second_degree="1").text
    assert 'id="second-degree"' in html and "Đỗ Thị Giang" in html and "Nhà văn hóa" in html
    assert "Đỗ Thị Giang" not in _trace(client, scene, id_number=SUBJECT).text


def test_csv_export_is_formula_safe_with_offsets_and_audited(traced: tuple[TestClient, Scene]) -> None:
    client, scene = traced
    form = {"csrf_token": page_csrf(client, "/console/trace"), **_window(scene), "id_number": SUBJECT, "format": "csv"}
    answer = client.post("/console/trace/export", data=form)
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    names = {row["full_name"] for row in rows}
    assert {"Lê Văn Cường", "Phạm Thị Dung", "Võ Minh Em", "'=cmd|' /C calc'!A0"} <= names
    assert all(row["start"].endswith("+07:00") for row in rows)
    assert {row["phone"] for row in rows} >= {TYPED_PHONE, DECLARED_PHONE}
    assert {row["identity"] for row in rows} >= {"Document scanned", "Self-declared"}
    assert _audit(client)[-1]["action"] == "trace_export"


def test_xlsx_export_holds_only_text_and_numbers(traced: tuple[TestClient, Scene]) -> None:
    client, scene = traced
    form = {"csrf_token": page_csrf(client, "/console/trace"), **_window(scene), "id_number": SUBJECT, "format": "xlsx"}
    answer = client.post("/console/trace/export", data=form)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    with zipfile.ZipFile(io.BytesIO(answer.content)) as book:
        assert book.testzip() is None
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "Lê Văn Cường" in sheet and "'=cmd|' /C calc'!A0" in sheet
    assert "+07:00" in sheet


def test_bad_input_is_a_message_not_a_crash(traced: tuple[TestClient, Scene]) -> None:
    client, scene = traced
    cases = [
        ({}, "Nhập số giấy tờ"),
        ({"full_name": "Trần Thị Bích"}, "cần cả ngày sinh"),
        ({"phone": "12"}, "6 đến 15 chữ số"),
        ({"id_number": SUBJECT, "from": "2021-09-02T00:00", "to": "2021-09-01T00:00"}, "phải sau"),
        ({"id_number": SUBJECT, "from": "hôm qua"}, "không hợp lệ"),
        ({"id_number": "0790\x0095"}, "Giá trị tìm kiếm không hợp lệ"),
        ({"full_name": "A" * 101, "date_of_birth": "1985-03-02"}, "Giá trị tìm kiếm không hợp lệ"),
        ({"id_number": SUBJECT, "from": "2020-01-01T00:00", "to": "2021-01-01T00:00"}, "tối đa 60 ngày"),
    ]
    for fields, message in cases:
        form = {"csrf_token": page_csrf(client, "/console/trace"), **_window(scene), **fields}
        answer = client.post("/console/trace", data=form)
        assert answer.status_code == 422 and message in answer.text, (fields, answer.text[-500:])
    assert _audit(client) == []  # nothing was traced


def test_a_manager_cannot_trace(traced: tuple[TestClient, Scene]) -> None:
    client, scene = traced
    client.cookies.clear()
    login_client(client, "quan.ly")
    assert client.get("/console/trace").status_code == 403
    token = page_csrf(client, "/console/tokens")
    answer = client.post("/console/trace", data={"csrf_token": token, "id_number": SUBJECT, **_window(scene)})
    assert answer.status_code == 403 and "Trần Thị Bích" not in answer.text
    export = client.post("/console/trace/export", data={"csrf_token": token, "id_number": SUBJECT, "format": "csv"})
    assert export.status_code == 403
    assert _audit(client) == []


def test_a_trace_without_the_csrf_token_is_refused(traced: tuple[TestClient, Scene]) -> None:
    client, scene = traced
    answer = client.post("/console/trace", data={"id_number": SUBJECT, **_window(scene)})
    assert answer.status_code == 403 and "Lê Văn Cường" not in answer.text
