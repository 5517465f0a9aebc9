"""Fixtures of the central-server tests: a TestClient app over SQLite or PostgreSQL, with a venue and a kiosk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.server_env import ServerEnv


@pytest.fixture
def env(server_db_url: str) -> Iterator[ServerEnv]:
    from server import admin
    from server.app import create_app
    from server.db import open_database
    from server.settings import ServerSettings

    engine = open_database(server_db_url)
    app = create_app(ServerSettings(db_url=server_db_url), engine)
    venue_id = admin.add_venue(engine, "Phở Hà Nội")
    with TestClient(app) as client:
        partial = ServerEnv(client, engine, venue_id, "", 0)
        token, kiosk_id = partial.new_kiosk(venue_id)
        partial.kiosk_token, partial.kiosk_id = token, kiosk_id
        yield partial
    engine.dispose()
