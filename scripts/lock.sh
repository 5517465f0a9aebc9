#!/usr/bin/env bash
# Refreshes requirements.lock: every Python package of the station, the server and the tests, pinned with
# their hashes, resolved from setup.cfg (its ranges are what the code needs; the lock is what was tested).
# Run it after changing a dependency in setup.cfg, then run the test suite and commit both files.
# Needs the package index (PyPI); uses a throwaway virtualenv with pip-tools.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/python" -m pip install -q "pip-tools==7.6.2"
"$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
  --extra station --extra server --extra dev --output-file requirements.lock setup.cfg
rm -rf qr_checkpoint.egg-info
echo "lock: requirements.lock refreshed ($(grep -c '^[a-zA-Z]' requirements.lock) packages)"
