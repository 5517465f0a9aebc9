"""The README's walk-through "From the door to the health authority", run as written: bash, an empty folder,
`.venv/bin` (the interpreter running the tests) on the PATH. Every command must succeed and the trace must find the visitor the video shows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT
from tests.support.postgres import free_port

pytestmark = pytest.mark.slow


def walkthrough() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## From the door to the health authority") :]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the walk-through's sh block is missing"
    return match.group(1)


def test_the_readme_walkthrough_works_as_written(tmp_path: Path) -> None:
    port = free_port()
    script = walkthrough().replace("8000", str(port))  # the only change: a free port on this busy machine
    traced = tmp_path / "trace.json"
    # Stop the server whatever happens (the block itself ends with `kill %1`).
    script = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + script
    script = re.sub(r"(kiosk-server trace [^\n]*)", rf"\1 > {traced}", script, count=1)
    # What the reader then does in a browser: log in as the authority the block made and trace the visitor.
    password = re.search(r"echo '([^']+)' \| kiosk-server user add", script)
    assert password, "the walk-through makes no console login"
    console = tmp_path / "console.html"
    login = (
        f"python -m tests.support.readme_console http://127.0.0.1:{port} bs.lan '{password.group(1)}' $ID > {console}"
    )
    script = script.replace("kill %1", f"{login}\nkill %1", 1)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(traced.read_text(encoding="utf-8"))
    assert report["visits"], "the trace found no visit of the video's first visitor"
    assert (tmp_path / "venue.csv").stat().st_size > 100
    assert "serve: no signing key yet: generated" in done.stderr  # the declaration page can sign at once
    # The console shows the same trace, with every co-visitor's full name.
    html = console.read_text(encoding="utf-8")
    names = {contact["full_name"] for visit in report["visits"] for contact in visit["contacts"]}
    assert names, "the video's first visitor met nobody: the console check would prove nothing"
    assert all(escape(name) in html for name in names)
