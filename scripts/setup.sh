#!/usr/bin/env bash
# Installs everything QR Checkpoint needs on a Debian 12 machine (as root, or with sudo), idempotently:
# the Debian libraries that Qt, zbar and Xvfb need, then a virtualenv in .venv with the project.
# --test adds what only the test suite needs: PostgreSQL (the central server's tests) and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  # Qt offscreen and in a window: the X, EGL and font libraries the PySide6 wheels load
  libgl1 libegl1 libxkbcommon0 libglib2.0-0 libfreetype6 libfontconfig1 libdbus-1-3
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libxcb-xkb1 xvfb xauth
  # sound (QtMultimedia) and fonts with Vietnamese glyphs
  libpulse0 fonts-dejavu-core
  # zbar, the second decoding engine
  libzbar0
  # Python
  python3 python3-venv
)
if [ "${1:-}" = "--test" ]; then
  DEB_PACKAGES+=(
    # the central server's database, for its tests (a throwaway cluster each run)
    postgresql
    # the health declaration page's test: a real headless browser and its WebDriver
    chromium chromium-driver
  )
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
