#!/usr/bin/env bash
# Installs everything QR Checkpoint needs on a Debian 12 machine (as root, or with sudo), idempotently:
# the Debian libraries that Qt, zbar and Xvfb need, then a virtualenv in .venv with the project.
# --test adds what only the test suite needs: PostgreSQL, Chromium, nginx, GStreamer's RTSP server.
set -euo pipefail
cd "$(dirname "$0")/.."

# One list for this script and the offline bundle (scripts/bundle.sh): scripts/debian-packages*.txt
read_packages() { sed 's/#.*//' "$1" | tr -s ' \t' '\n' | grep -v '^$'; }
mapfile -t DEB_PACKAGES < <(read_packages scripts/debian-packages.txt)
if [ "${1:-}" = "--test" ]; then
  mapfile -t -O "${#DEB_PACKAGES[@]}" DEB_PACKAGES < <(read_packages scripts/debian-packages-test.txt)
fi

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat setup.cfg pyproject.toml requirements.lock | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages into .venv (log: .venv/setup.log)"
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q --require-hashes -r requirements.lock &&
         .venv/bin/python -m pip install -q --no-deps -e .; } >.venv/setup.log 2>&1; then
    tail -n 30 .venv/setup.log >&2
    echo "setup: pip install failed (full log: .venv/setup.log)" >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
