#!/usr/bin/env bash
# Sets up everything (idempotent) and runs QR Checkpoint: the station window on the camera, or on the built-in
# demo source when there is no camera; with no display at all, the headless pipeline on the demo source.
# Extra arguments go to `kiosk`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ $# -gt 0 ]; then
  exec .venv/bin/kiosk "$@"
fi
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display here: running the headless pipeline on the demo source (Ctrl-C to stop)" >&2
  exec .venv/bin/kiosk scan --source demo --db "${TMPDIR:-/tmp}/qr-checkpoint-demo.sqlite3"
fi
if compgen -G "/dev/video*" >/dev/null; then
  exec .venv/bin/kiosk
fi
exec .venv/bin/kiosk --demo
