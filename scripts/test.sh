#!/usr/bin/env bash
# Sets up everything (idempotent), then lint, format and type checks, then the whole test suite.
# Extra arguments go to pytest. Any failing step fails the run (CI runs exactly this through .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
# A missing PostgreSQL, Chromium or deployment tool fails the tests that need them instead of skipping them.
export QRC_REQUIRE_POSTGRES=1 QRC_REQUIRE_CHROMIUM=1 QRC_REQUIRE_DEPLOY_TOOLS=1
echo "test: ruff check"
.venv/bin/ruff check .
echo "test: ruff format --check"
.venv/bin/ruff format --check .
echo "test: mypy (configuration in pyproject.toml)"
.venv/bin/mypy
echo "test: pytest"
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
