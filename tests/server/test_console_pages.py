"""Audit, persons and API-token pages, and the permission matrix (TestClient over SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from server import admin
from server.app import create_app
from server.db import open_database
from server.models import audit_log, persons
from server.persons import Claimant, claim_person
from server.settings import ServerSettings
from tests.support.console import login_client, make_login, page_csrf


@pytest.fixture
def console(server_db_url: str) -> Iterator[TestClient]:
    """Logins: authority "an", admin "quan", managers "minh" (venue A) and "mai" (venue B)."""
    engine = open_database(server_db_url)
    venue_a, venue_b = admin.add_venue(engine, "Quán A"), admin.add_venue(engine, "Quán B")
    make_login(engine, "authority", "an")
    make_login(engine, "admin", "quan")
    make_login(engine, "manager", "minh", venue_a)
    make_login(engine, "manager", "mai", venue_b)
    with TestClient(create_app(ServerSettings(db_url=server_db_url), engine)) as client:
        yield client
    engine.dispose()


def _as(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    assert login_client(client, username).status_code == 303
    return client


PAGES = ("/console/trace", "/console/persons", "/console/audit", "/console/tokens")
ALLOWED = {
    "an": {"/console/trace", "/console/persons", "/console/tokens"},
    "quan": {"/console/persons", "/console/audit", "/console/tokens"},
    "minh": {"/console/tokens"},
}


@pytest.mark.parametrize("username", sorted(ALLOWED))
def test_permission_matrix(console: TestClient, username: str) -> None:
    client = _as(console, username)
    for page in PAGES:
        expected = 200 if page in ALLOWED[username] else 403
        assert client.get(page).status_code == expected, (username, page)
    nav = re.findall(r'<nav class="nav".*?</nav>', client.get("/console/tokens").text, re.S)[0]
    for page in PAGES:
        assert (f'href="{page}"' in nav) == (page in ALLOWED[username]), (username, page)


def test_the_audit_page_shows_traces_and_offers_no_way_to_change_it(console: TestClient) -> None:
    client = _as(console, "an")
    form = {"csrf_token": page_csrf(client, "/console/trace"), "id_number": "079095009999"}
    assert client.post("/console/trace", data=form).status_code == 200
    client = _as(console, "quan")
    page = client.get("/console/audit")
    assert page.status_code == 200
    assert "console:an" in page.text and "079095009999" in page.text and "Truy vết" in page.text
    forms = re.findall(r'<form[^>]*action="([^"]+)"', page.text)
    assert forms == ["/console/logout"]  # nothing on the page posts anywhere but the logout
    for method in ("put", "delete", "patch"):
        assert getattr(client, method)("/console/audit").status_code == 405
    assert client.post("/console/audit", data={"csrf_token": page_csrf(client, "/console/audit")}).status_code == 405


def test_the_audit_log_is_append_only_in_postgresql(console: TestClient, server_db_url: str) -> None:
    if not server_db_url.startswith("postgresql"):
        pytest.skip("the trigger is PostgreSQL's; SQLite has only the application's word")
    client = _as(console, "an")
    client.post("/console/trace", data={"csrf_token": page_csrf(client, "/console/trace"), "id_number": "1"})
    engine = client.app.state.engine  # type: ignore[attr-defined]
    for statement in ("UPDATE audit_log SET result_count = 0", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 1


def test_persons_lookup_and_conflict_resolution(console: TestClient) -> None:
    engine = console.app.state.engine  # type: ignore[attr-defined]
    first = claim_person(engine, Claimant("Nguyễn Văn An", "079095001234", date(1990, 1, 2), "0901234567"))
    second = claim_person(engine, Claimant("Kẻ Mạo Danh", "079095001234", None, ""))
    client = _as(console, "an")
    page = client.get("/console/persons")
    assert "Kẻ Mạo Danh" in page.text and 'id="conflicts"' in page.text
    token = page_csrf(client, "/console/persons")
    found = client.post("/console/persons", data={"csrf_token": token, "query": "0901 234 567"}).text
    assert "Nguyễn Văn An" in found and first in found
    by_name = client.post(
        "/console/persons", data={"csrf_token": token, "query": "nguyen van an", "date_of_birth": "1990-01-02"}
    ).text
    assert first in by_name
    answer = client.post(
        "/console/persons/resolve", data={"csrf_token": token, "person_id": second, "status": "rejected"}
    )
    assert answer.status_code == 200 and 'id="resolved"' in answer.text
    answer = client.post(
        "/console/persons/resolve", data={"csrf_token": token, "person_id": first, "status": "verified"}
    )
    assert 'id="no-conflicts"' in answer.text
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(persons.c.id, persons.c.id_status)).all())
        actions = list(conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars())
    assert statuses == {first: "verified", second: "rejected"}
    assert actions.count("person_resolve") == 2 and "person_search" in actions and "person_view" in actions
    refused = client.post("/console/persons/resolve", data={"person_id": first, "status": "rejected"})
    assert refused.status_code == 403  # no CSRF token


def test_a_manager_cannot_see_persons_or_resolve(console: TestClient) -> None:
    client = _as(console, "minh")
    token = page_csrf(client, "/console/tokens")
    assert client.post("/console/persons", data={"csrf_token": token, "query": "079095001234"}).status_code == 403
    answer = client.post("/console/persons/resolve", data={"csrf_token": token, "person_id": "P", "status": "verified"})
    assert answer.status_code == 403


def test_users_create_and_revoke_their_own_api_tokens(console: TestClient) -> None:
    client = _as(console, "minh")
    token = page_csrf(client, "/console/tokens")
    page = client.post("/console/tokens", data={"csrf_token": token, "name": "báo cáo", "expires_days": "30"}).text
    made = re.search(r'<code id="token-value">([^<]+)</code>', page)
    assert made and made.group(1).startswith("qrck_man_")
    bearer = {"Authorization": f"Bearer {made.group(1)}"}
    assert client.get("/api/v1/venues/1", headers=bearer).status_code == 200  # the manager's own venue
    assert client.get("/api/v1/venues/2", headers=bearer).status_code == 403  # not another venue
    public_id = re.search(r"<code>([0-9a-f]{12})</code>", page)
    assert public_id
    # Another user sees none of it and cannot revoke it.
    other = _as(console, "an")
    assert public_id.group(1) not in other.get("/console/tokens").text
    other.post(
        "/console/tokens/revoke",
        data={"csrf_token": page_csrf(other, "/console/tokens"), "token_id": public_id.group(1)},
    )
    client = _as(console, "minh")
    assert "đã thu hồi" not in client.get("/console/tokens").text
    client.post(
        "/console/tokens/revoke",
        data={"csrf_token": page_csrf(client, "/console/tokens"), "token_id": public_id.group(1)},
    )
    assert "đã thu hồi" in client.get("/console/tokens").text
    assert client.get("/api/v1/venues/1", headers=bearer).status_code == 401  # revoked: refused at once


def test_an_admin_gets_no_api_token(console: TestClient) -> None:
    client = _as(console, "quan")
    page = client.post("/console/tokens", data={"csrf_token": page_csrf(client, "/console/tokens")}).text
    assert "qrck_" not in page and 'id="token-form"' not in page


def test_traces_through_the_api_and_the_cli_are_audited_too(console: TestClient, server_db_url: str) -> None:
    import getpass
    import subprocess
    import sys

    from server.auth import hash_secret, token_id
    from tests.support.paths import REPO_ROOT

    engine = console.app.state.engine  # type: ignore[attr-defined]
    token = admin.add_user(engine, "authority")
    query = {"id_number": "079095001234", "from": "2021-09-01T00:00:00Z", "to": "2021-09-02T00:00:00Z"}
    assert console.get("/api/v1/trace", params=query, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    csv_query = {**query, "format": "csv"}
    assert (
        console.get("/api/v1/trace", params=csv_query, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    window = ("--from", "2021-09-01T00:00:00+07:00", "--to", "2021-09-02T00:00:00+07:00")
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "trace", "--db", server_db_url, "--id-number", "079095001234", *window],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.actor, audit_log.c.role, audit_log.c.action).order_by(audit_log.c.id)
        ).all()
    actor = f"token:{token_id(hash_secret(token))}"
    assert [tuple(r) for r in rows] == [
        (actor, "authority", "trace"),
        (actor, "authority", "trace_export"),
        (f"cli:{getpass.getuser()}", "operator", "trace"),
    ]
    client = _as(console, "quan")
    assert actor in client.get("/console/audit").text
