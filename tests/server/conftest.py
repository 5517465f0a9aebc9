"""Fixtures of the central-server tests: a TestClient app over SQLite or PostgreSQL, with a venue and a kiosk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_support import ServerEnv


def pytest_configure(config: pytest.Config) -> None:
    # The PostgreSQL / live-server fixtures live in tests/conftest_pg.py; load them unless the root conftest did.
    loaded = {Path(getattr(p, "__file__", "") or "").name for p in config.pluginmanager.get_plugins()}
    if "conftest_pg.py" not in loaded:
        config.pluginmanager.import_plugin("conftest_pg")


@pytest.fixture
def env(server_db_url: str) -> Iterator[ServerEnv]:
    from sync.server import admin
    from sync.server.app import create_app
    from sync.server.db import open_database
    from sync.server.settings import ServerSettings

    engine = open_database(server_db_url)
    app = create_app(ServerSettings(db_url=server_db_url), engine)
    venue_id = admin.add_venue(engine, "Phở Hà Nội")
    with TestClient(app) as client:
        partial = ServerEnv(client, engine, venue_id, "", 0)
        token, kiosk_id = partial.new_kiosk(venue_id)
        partial.kiosk_token, partial.kiosk_id = token, kiosk_id
        yield partial
    engine.dispose()
