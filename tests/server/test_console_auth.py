"""Console accounts and sessions through the app (TestClient over SQLite and PostgreSQL): login, logout,
expiry, CSRF, fixation, throttling, roles, and `kiosk-server user add --password-stdin`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server import admin
from server.app import create_app
from server.console.accounts import authenticate, hash_password, verify_password
from server.db import open_database
from server.models import audit_log, console_sessions
from server.settings import ServerSettings
from tests.support.console import PASSWORD, csrf_token, login_client, make_login
from tests.support.paths import REPO_ROOT


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def console(server_db_url: str, clock: Clock) -> Iterator[tuple[TestClient, int]]:
    """A console app with an authority "an", an admin "quan" and a manager "minh" of venue 1; (client, venue)."""
    engine = open_database(server_db_url)
    venue_id = admin.add_venue(engine, "Nhà văn hóa")
    make_login(engine, "authority", "an")
    make_login(engine, "admin", "quan")
    make_login(engine, "manager", "minh", venue_id)
    settings = ServerSettings(db_url=server_db_url, clock=clock, login_failures_per_user=3)
    with TestClient(create_app(settings, engine)) as client:
        yield client, venue_id
    engine.dispose()


def test_passwords_are_scrypt_hashes_and_verify() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("x", "md5$abc") and not verify_password("x", "garbage")


def test_login_sets_a_strict_httponly_session_and_logout_ends_it(console: tuple[TestClient, int]) -> None:
    client, _ = console
    assert client.get("/console/trace", follow_redirects=False).headers["location"] == "/?next=/console/trace"
    answer = login_client(client, "an")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/trace"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("qrck_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie  # plain http here
    page = client.get("/console/trace")
    assert page.status_code == 200 and "an · Cơ quan y tế" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/", follow_redirects=False).headers["location"] == "/console/trace"  # already in
    token = csrf_token(page.text)
    assert client.post("/console/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/console/trace", follow_redirects=False).status_code == 303  # back to the login


def test_the_next_page_after_login_is_a_local_path_only(console: tuple[TestClient, int]) -> None:
    client, _ = console
    token = csrf_token(client.get("/").text)
    form = {"username": "an", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"}
    assert client.post("/", data=form, follow_redirects=False).headers["location"] == "/console/trace"


def test_wrong_passwords_and_unknown_users_are_refused_alike(console: tuple[TestClient, int]) -> None:
    client, _ = console
    wrong, unknown = login_client(client, "an", "not the password"), login_client(client, "ai", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in wrong.text and "qrck_session" not in wrong.headers.get("set-cookie", "")


def test_a_kiosk_or_authority_token_cannot_log_in(console: tuple[TestClient, int]) -> None:
    client, venue_id = console
    engine = client.app.state.engine  # type: ignore[attr-defined]
    _, code = admin.add_kiosk(engine, venue_id)
    kiosk_token = admin.enroll(engine, code, datetime.now(UTC))
    assert kiosk_token is not None
    for username, password in (("an", kiosk_token.token), (kiosk_token.token, kiosk_token.token)):
        assert login_client(client, username, password).status_code == 401
    bearer = {"Authorization": f"Bearer {admin.add_user(engine, 'authority')}"}
    assert client.get("/console/trace", headers=bearer, follow_redirects=False).status_code == 303


def test_login_without_the_forms_csrf_token_is_refused(console: tuple[TestClient, int]) -> None:
    client, _ = console
    client.get("/")
    answer = client.post("/", data={"username": "an", "password": PASSWORD, "csrf_token": "forged"})
    assert answer.status_code == 403 and "qrck_session" not in answer.headers.get("set-cookie", "")


def test_a_post_without_the_sessions_csrf_token_is_refused(console: tuple[TestClient, int]) -> None:
    client, _ = console
    login_client(client, "an")
    for form in ({}, {"csrf_token": "x" * 43}):
        assert client.post("/console/logout", data=form, follow_redirects=False).status_code == 403
    assert client.get("/console/trace", follow_redirects=False).status_code == 200  # still logged in


def test_login_makes_a_new_session_id_and_ends_a_planted_one(console: tuple[TestClient, int]) -> None:
    client, _ = console
    login_client(client, "minh")
    planted = client.cookies["qrck_session"]  # a live session id, planted in another browser before its login
    client.cookies.clear()
    token = csrf_token(client.get("/").text)
    client.cookies.set("qrck_session", planted)
    answer = client.post(
        "/", data={"username": "an", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303
    fresh = _session_cookie(answer).split(";")[0].removeprefix("qrck_session=")
    assert fresh and fresh != planted
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert len(conn.execute(select(console_sessions.c.id_hash)).all()) == 1  # the planted one is gone
    client.cookies.clear()
    client.cookies.set("qrck_session", planted)
    assert client.get("/console/tokens", follow_redirects=False).status_code == 303  # no longer a session
    client.cookies.clear()
    client.cookies.set("qrck_session", "attacker-chosen-id")
    assert client.get("/console/trace", follow_redirects=False).status_code == 303  # an unknown id is no session


def test_sessions_end_after_idle_time_and_absolutely(console: tuple[TestClient, int], clock: Clock) -> None:
    client, _ = console
    login_client(client, "an")
    started = clock.now
    # A request every 29 minutes: never idle for 30, but the session ends 12 h after its login all the same.
    while client.get("/console/trace", follow_redirects=False).status_code == 200 and clock.now - started < timedelta(
        hours=20
    ):
        clock.now += timedelta(minutes=29)
    assert timedelta(hours=12) < clock.now - started <= timedelta(hours=12, minutes=29)
    client.cookies.clear()
    login_client(client, "an")
    clock.now += timedelta(minutes=31)
    assert client.get("/console/trace", follow_redirects=False).status_code == 303  # idle for 31 min


def test_brute_force_is_throttled_per_user_and_the_right_password_waits_too(console: tuple[TestClient, int]) -> None:
    client, _ = console
    codes = [login_client(client, "an", f"guess-{n}").status_code for n in range(4)]
    assert codes == [401, 401, 401, 429]
    throttled = login_client(client, "an")
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert login_client(client, "quan").status_code == 303  # another user is not locked out


def test_the_wrong_password_budget_is_shared_by_every_worker_and_refills(server_db_url: str, clock: Clock) -> None:
    """Two apps on one database are two workers of `serve --workers 2`: wrong passwords sent to either count
    against one budget (kept in memory, each worker allowed the budget again), and it refills after 5 minutes.
    Each wrong password is in the audit log, without the password."""
    engine = open_database(server_db_url)
    make_login(engine, "authority", "lan")
    settings = ServerSettings(db_url=server_db_url, clock=clock, login_failures_per_user=3)
    with TestClient(create_app(settings, engine)) as one, TestClient(create_app(settings, engine)) as two:
        codes = [login_client((one, two)[n % 2], "lan", f"guess-{n}").status_code for n in range(4)]
        assert codes == [401, 401, 401, 429]
        throttled = login_client(two, "LAN ")  # the same name, however typed: the right password waits too
        assert throttled.status_code == 429 and 0 < int(throttled.headers["retry-after"]) <= 300
        clock.now += timedelta(minutes=5, seconds=1)
        assert login_client(one, "lan").status_code == 303
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action == "login_failed")).all()
    assert [row.actor for row in rows] == ["login:lan"] * 3
    assert all("guess" not in row.query for row in rows)
    engine.dispose()


def test_roles_are_enforced_on_every_page(console: tuple[TestClient, int]) -> None:
    client, _ = console
    login_client(client, "minh")  # a manager
    assert client.get("/console/trace").status_code == 403
    assert client.get("/console/audit").status_code == 403
    assert client.get("/console/persons").status_code == 403
    client.cookies.clear()
    login_client(client, "an")  # an authority
    assert client.get("/console/audit").status_code == 403
    assert client.get("/console/trace").status_code == 200


def test_language_switch(console: tuple[TestClient, int]) -> None:
    client, _ = console
    login_client(client, "an")
    switched = client.get("/console/lang?to=en&next=/console/trace", follow_redirects=False)
    assert switched.headers["location"] == "/console/trace"
    assert "Log out" in client.get("/console/trace").text
    assert (
        client.get("/console/lang?to=en&next=https://evil.example/", follow_redirects=False).headers["location"] == "/"
    )


def _session_cookie(answer: Any) -> str:
    return next(c for c in answer.headers.get_list("set-cookie") if c.startswith("qrck_session="))


def test_the_cookie_is_secure_under_https(server_db_url: str) -> None:
    engine = open_database(server_db_url)
    make_login(engine, "authority", "an")
    with TestClient(create_app(ServerSettings(db_url=server_db_url), engine), base_url="https://testserver") as client:
        answer = login_client(client, "an")
    engine.dispose()
    assert answer.status_code == 303 and "Secure" in _session_cookie(answer)


@pytest.mark.parametrize("trusted, secure", [(True, True), (False, False)])
def test_x_forwarded_proto_counts_from_a_trusted_proxy_only(tmp_path: Path, trusted: bool, secure: bool) -> None:
    import requests

    from server.settings import parse_networks
    from tests.support.console import threaded_server

    db_url = f"sqlite:///{tmp_path / 's.db'}"
    engine = open_database(db_url)
    make_login(engine, "authority", "an")
    proxies = parse_networks(["127.0.0.1"]) if trusted else ()
    with threaded_server(create_app(ServerSettings(db_url=db_url, trusted_proxies=proxies), engine)) as base:
        proto = {"X-Forwarded-Proto": "https"}
        form = requests.get(f"{base}/", headers=proto, timeout=10)
        # A Secure cookie does not travel back over plain http: send the login form's cookie by hand.
        cookie = {"Cookie": f"qrck_login={form.cookies.get('qrck_login')}"}
        answer = requests.post(
            f"{base}/",
            data={"username": "an", "password": PASSWORD, "csrf_token": csrf_token(form.text)},
            headers={**proto, **cookie},
            allow_redirects=False,
            timeout=30,
        )
    engine.dispose()
    assert answer.status_code == 303
    cookie = next(c for c in answer.raw.headers.getlist("set-cookie") if c.startswith("qrck_session="))
    assert ("Secure" in cookie) is secure


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )


def test_user_add_password_stdin_makes_a_login(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    venue = _cli("venue", "add", "--db", db, "--name", "Chợ").stdout.split()[-1]
    made = _cli(
        "user",
        "add",
        "--db",
        db,
        "--role",
        "authority",
        "--name",
        "bs.lan",
        "--password-stdin",
        stdin="một mật khẩu dài\n",
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().splitlines()[-1] == "bs.lan"
    manager = ("user", "add", "--db", db, "--role", "manager", "--name", "quan.ly", "--password-stdin")
    assert "needs --venue" in _cli(*manager, stdin="password-123\n").stderr
    assert _cli(*manager, "--venue", venue, stdin="password-123\n").returncode == 0
    assert "exists already" in _cli(*manager, "--venue", venue, stdin="password-123\n").stderr
    short = _cli("user", "add", "--db", db, "--role", "admin", "--name", "it", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "8 to 1024 characters" in short.stderr and "Traceback" not in short.stderr
    no_token_for_admins = _cli("user", "add", "--db", db, "--role", "admin", "--name", "it")
    assert no_token_for_admins.returncode == 1 and "--password-stdin" in no_token_for_admins.stderr
    token = _cli("user", "add", "--db", db, "--role", "authority").stdout.strip().splitlines()[-1]
    assert token.startswith("qrck_aut_")  # without --password-stdin: an API token, as before
    engine = open_database(db)
    with engine.connect() as conn:
        user = authenticate(conn, "bs.lan", "một mật khẩu dài")
        assert user is not None and user.role == "authority" and user.venue_id is None
        manager_user = authenticate(conn, "quan.ly", "password-123")
        assert manager_user is not None and manager_user.venue_id == int(venue)
        assert authenticate(conn, "bs.lan", "một mật khẩu dài\n") is None
    engine.dispose()


def test_user_logins_and_disable(console: tuple[TestClient, int], server_db_url: str) -> None:
    client, venue_id = console
    login_client(client, "an")
    assert client.get("/console/trace", follow_redirects=False).status_code == 200
    listed = _cli("user", "logins", "--db", server_db_url)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert [line.split("\t")[1:4] for line in lines] == [
        ["an", "authority", "-"],
        ["quan", "admin", "-"],
        ["minh", "manager", f"venue {venue_id}"],
    ]
    disabled = _cli("user", "disable", "--db", server_db_url, "--name", "an")
    assert disabled.returncode == 0, disabled.stderr
    assert client.get("/console/trace", follow_redirects=False).status_code == 303  # the session ended at once
    client.cookies.clear()
    assert login_client(client, "an").status_code == 401  # and the password opens nothing
    assert "disabled" in _cli("user", "logins", "--db", server_db_url).stdout.splitlines()[0]
    unknown = _cli("user", "disable", "--db", server_db_url, "--name", "nobody")
    assert unknown.returncode == 1 and "no console user named 'nobody'" in unknown.stderr
