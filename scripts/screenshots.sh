#!/usr/bin/env bash
# Screenshots of the station under Xvfb (a real X server, the real xcb platform plugin) at the two screen sizes
# the station must fit: 7-inch 800x480 and 1024x600 panels and a 1920x1080 monitor. Output: docs/screenshots/*.png
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
command -v xvfb-run >/dev/null || { echo "screenshots: xvfb-run missing (apt-get install xvfb xauth)" >&2; exit 1; }
for size in 800x480 1024x600 1920x1080; do
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 ${size}x24 -nolisten tcp" \
    "$PY" scripts/screenshots.py --size "$size" --out docs/screenshots
done
