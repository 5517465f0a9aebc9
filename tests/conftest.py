"""Shared test set-up. Qt must be told to draw offscreen before anything imports it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kiosk.store import Store

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests (and the commands they start) never touch the developer's own configuration or database.
_home = tempfile.mkdtemp(prefix="qrc-test-home-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_home, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_home, "data")
os.environ.pop("QRC_CONFIG", None)

# The PostgreSQL cluster, SQLite and live-server fixtures, for every test that asks for them.
pytest_plugins = ["tests.support.postgres"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A kiosk's local event store in a fresh SQLite file."""
    from kiosk.store import Store  # imported here: the environment above must be set first

    with Store.open(tmp_path / "events.sqlite3") as opened:
        yield opened
