"""`kiosk` installed without the station extra says what is missing in one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys

from tests.support.blocked_imports import STATION_MODULES, blocking_prelude
from tests.support.paths import REPO_ROOT


def test_kiosk_without_the_station_packages_says_what_to_install() -> None:
    script = (
        blocking_prelude(STATION_MODULES) + "from kiosk.cli import main\nsys.exit(main(['scan', '--source', 'demo']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "qr-checkpoint[station]" in done.stderr
    assert "Traceback" not in done.stderr
