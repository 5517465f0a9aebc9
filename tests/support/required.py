"""A test whose real part (PostgreSQL, Chromium) is missing: skipped on a developer's machine, failed where the
suite must prove everything. `scripts/test.sh` (and so CI) sets QRC_REQUIRE_POSTGRES=1 and QRC_REQUIRE_CHROMIUM=1,
so CI cannot go green with half the server untested."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

POSTGRES = "QRC_REQUIRE_POSTGRES"
CHROMIUM = "QRC_REQUIRE_CHROMIUM"
# The deployment kit's real parts: systemd-analyze, Xvfb, nginx, the GStreamer RTSP server (scripts/setup.sh --test)
DEPLOY_TOOLS = "QRC_REQUIRE_DEPLOY_TOOLS"


def is_required(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


def unavailable(variable: str, reason: str) -> NoReturn:
    """Skip with `reason`, or fail with it when `variable` says the part is required."""
    if is_required(variable):
        pytest.fail(f"{reason} ({variable} is set: this run requires it)", pytrace=False)
    pytest.skip(reason)
