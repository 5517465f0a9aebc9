"""Fuzz every operation of the server's OpenAPI with schemathesis: whatever arrives, never a 5xx.

Bounded: 40 examples per operation (about 500 requests), against SQLite, with valid tokens of the role each
operation needs (so the fuzzing reaches past authentication), and a few without any token.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from server import admin
from server.app import create_app
from server.db import open_database
from server.settings import ServerSettings

TOKENS: dict[str, str] = {}


def _app() -> Any:
    """The app over a fresh SQLite file with a venue, an enrolled kiosk, a manager and an authority (built at
    collection: schemathesis needs the schema then)."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='qrck-fuzz-')) / 'server.db'}"
    engine = open_database(url)
    venue_id = admin.add_venue(engine, "Fuzz venue")
    _, code = admin.add_kiosk(engine, venue_id)
    enrolled = admin.enroll(engine, code, admin.now_utc())
    assert enrolled is not None
    TOKENS.update(
        kiosk=enrolled.token,
        manager=admin.add_user(engine, "manager", venue_id),
        authority=admin.add_user(engine, "authority"),
    )
    return create_app(ServerSettings(db_url=url), engine)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


def token_for(path: str, method: str) -> str:
    if path.startswith("/api/v1/trace"):
        return TOKENS["authority"]
    if path.startswith("/api/v1/venues"):
        return TOKENS["authority"] if method == "GET" else TOKENS["manager"]
    return TOKENS["kiosk"]


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_no_server_errors(case: Any) -> None:
    headers = {"Authorization": f"Bearer {token_for(case.path, case.method.upper())}"}
    response = case.call(headers=headers)
    assert response.status_code < 500, f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}"
    anonymous = case.call(headers={"Authorization": ""})
    assert anonymous.status_code < 500
