"""The venue pages through the app (TestClient, SQLite and PostgreSQL): occupancy and who is inside, the audited
evacuation list, the charts, the settings and safety forms, and who may see what."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kiosk.events import Direction
from server import admin
from server.app import create_app
from server.db import open_database
from server.models import audit_log, venues
from server.settings import ServerSettings
from sync import protocol
from tests.support.console import login_client, make_login, page_csrf
from tests.support.server_env import make_event


@dataclass
class Console:
    client: TestClient
    engine: Engine
    venue_id: int
    other_venue: int
    kiosk_token: str

    def login(self, username: str) -> None:
        self.client.cookies.clear()
        assert login_client(self.client, username).status_code == 303

    def scan(self, id_number: str, name: str, direction: Direction, minutes_ago: float, **extra: object) -> None:
        event = make_event(
            id_number=id_number,
            name=name,
            direction=direction,
            wall_time=datetime.now(UTC) - timedelta(minutes=minutes_ago),
            **extra,
        )
        body = protocol.encode_batch([event], datetime.now(UTC))
        answer = self.client.post(
            protocol.EVENTS_PATH, content=body, headers={"Authorization": f"Bearer {self.kiosk_token}"}
        )
        assert answer.status_code == 200, answer.text


@pytest.fixture
def console(server_db_url: str) -> Iterator[Console]:
    engine = open_database(server_db_url)
    venue_id = admin.add_venue(engine, "Nhà hát Lớn")
    other = admin.add_venue(engine, "Chợ Đồng Xuân")
    make_login(engine, "admin", "quan")
    make_login(engine, "manager", "minh", venue_id)
    make_login(engine, "manager", "lan", other)
    make_login(engine, "authority", "an")
    _, code = admin.add_kiosk(engine, venue_id, "Cổng chính")
    with TestClient(create_app(ServerSettings(db_url=server_db_url), engine)) as client:
        token = client.post(protocol.ENROLL_PATH, json={"code": code}).json()["token"]
        yield Console(client, engine, venue_id, other, token)
    engine.dispose()


def test_the_venue_page_shows_who_is_inside_and_audits_the_view(console: Console) -> None:
    console.scan("079095000001", "Trần Thị Bích", Direction.ENTRY, 30, details={"phone": "0903123456"})
    console.scan("079095000002", "Lê Văn Cường", Direction.ENTRY, 20)
    console.scan("079095000002", "Lê Văn Cường", Direction.EXIT, 5)
    console.login("minh")
    page = console.client.get(f"/console/venues/{console.venue_id}")
    assert page.status_code == 200
    assert 'id="occupancy">1' in page.text and "Trần Thị Bích" in page.text and "Lê Văn Cường" not in page.text
    assert "••••••••0001" in page.text and "079095000001" not in page.text  # the ID masked, even for the manager
    assert '<svg class="chart"' in page.text and "Lượt vào theo giờ hôm nay" in page.text
    printed = console.client.get(f"/console/venues/{console.venue_id}/evacuation")
    assert printed.status_code == 200 and "0903123456" in printed.text and 'id="count">1<' in printed.text
    with console.engine.connect() as conn:
        actions = [
            (r.action, r.actor, r.result_count) for r in conn.execute(select(audit_log).order_by(audit_log.c.id))
        ]
    assert actions[-2:] == [("presence_view", "console:minh", 1), ("presence_print", "console:minh", 1)]
    assert console.client.get(f"/console/venues/{console.venue_id}?lang=en").text.count("Who is inside now") == 1


def test_a_manager_sees_only_their_venue_and_no_fleet(console: Console) -> None:
    console.login("minh")
    assert console.client.get("/console/venues", follow_redirects=False).headers["location"] == (
        f"/console/venues/{console.venue_id}"
    )
    for path in (
        f"/console/venues/{console.other_venue}",
        f"/console/venues/{console.other_venue}/evacuation",
        "/console/venues/999",
        "/console/fleet",
    ):
        assert console.client.get(path).status_code == 403, path
    token = page_csrf(console.client, f"/console/venues/{console.venue_id}")
    refused = console.client.post(
        f"/console/venues/{console.other_venue}/settings", data={"csrf_token": token, "mode": "exit", "cred_cccd": "on"}
    )
    assert refused.status_code == 403
    console.login("an")  # an authority traces; venues are not theirs
    assert console.client.get(f"/console/venues/{console.venue_id}").status_code == 403
    console.login("quan")  # the admin sees every venue
    listing = console.client.get("/console/venues")
    assert "Nhà hát Lớn" in listing.text and "Chợ Đồng Xuân" in listing.text
    assert console.client.get(f"/console/venues/{console.other_venue}").status_code == 200


def _config(console: Console) -> dict[str, object]:
    with console.engine.connect() as conn:
        return json.loads(
            conn.execute(select(venues.c.station_config).where(venues.c.id == console.venue_id)).scalar_one()
        )


def test_the_settings_form_keeps_the_settings_and_refuses_bad_ones(console: Console) -> None:
    console.login("minh")
    path = f"/console/venues/{console.venue_id}"
    form = {
        "csrf_token": page_csrf(console.client, path),
        "mode": "entry",
        "capacity": "80",
        "capacity_action": "warn",
        "questionnaire_policy": "always",
        "closing_time": "22:00",
        "cooldown_seconds": "30",
        "cred_cccd": "on",
        "cred_dcc": "on",
    }
    saved = console.client.post(f"{path}/settings", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert _config(console) == {
        "mode": "entry",
        "capacity": 80,
        "capacity_action": "warn",
        "questionnaire_policy": "always",
        "closing_time": "22:00",
        "cooldown_seconds": 30,
        "accepted_credentials": ["cccd", "dcc"],
    }
    config = console.client.get(protocol.CONFIG_PATH, headers={"Authorization": f"Bearer {console.kiosk_token}"}).json()
    assert config["capacity"] == 80 and config["extra"] == {"capacity_action": "warn", "closing_time": "22:00"}
    page = console.client.get(f"{path}?saved=settings")
    assert 'value="80"' in page.text and "áp dụng ở lần đồng bộ tới" in page.text
    for bad, message in (
        ({"capacity": "-5"}, "Sức chứa"),
        ({"closing_time": "25:99"}, "closing_time"),
        ({"cred_cccd": "", "cred_dcc": ""}, "ít nhất một"),
        ({"mode": "sideways"}, "mode"),
    ):
        answer = console.client.post(f"{path}/settings", data={**form, **bad})
        assert answer.status_code == 422 and message in answer.text, bad
    assert _config(console)["capacity"] == 80  # nothing kept from a bad form
    no_csrf = console.client.post(f"{path}/settings", data={**form, "csrf_token": "forged"})
    assert no_csrf.status_code == 403


def test_the_self_assessment_publishes_a_level(console: Console) -> None:
    from server.safety import CRITERIA

    console.login("minh")
    path = f"/console/venues/{console.venue_id}"
    answers = {f"c_{c.key}": "yes" for c in CRITERIA}
    token = page_csrf(console.client, path)
    incomplete = console.client.post(f"{path}/safety", data={"csrf_token": token, "c_masks": "yes"})
    assert incomplete.status_code == 422 and "Chưa trả lời" in incomplete.text
    answers["c_masks"] = "no"
    done = console.client.post(f"{path}/safety", data={"csrf_token": token, **answers}, follow_redirects=False)
    assert done.status_code == 303
    config = console.client.get(protocol.CONFIG_PATH, headers={"Authorization": f"Bearer {console.kiosk_token}"}).json()
    assert config["safety"]["level"] == "orange"  # 85 %, but masks are mandatory
    page = console.client.get(path)
    assert '<span class="chip orange">Cam</span>' in page.text and "85 %" in page.text
