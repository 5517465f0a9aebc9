"""Shared test set-up. Qt must be told to draw offscreen before anything imports it."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests (and the commands they start) never touch the developer's own configuration or database.
_home = tempfile.mkdtemp(prefix="qrc-test-home-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_home, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_home, "data")
os.environ.pop("QRC_CONFIG", None)
