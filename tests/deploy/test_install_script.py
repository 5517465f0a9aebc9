"""install.sh's own checks, before it touches anything (the install itself: test_bundle.py)."""

from __future__ import annotations

import subprocess

from tests.support.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "bundle-install.sh"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=30)


def test_help_lists_every_option() -> None:
    done = run("--help")
    assert done.returncode == 0
    for option in ("--service", "--enroll", "--prefix", "--bin-dir", "--no-apt", "--user", "--ca-file"):
        assert option in done.stdout, option


def test_enrolling_without_the_service_and_unknown_options_are_refused_at_once() -> None:
    done = run("--enroll", "QRCK-ENROLL:ABCD", "--no-apt", "--prefix", "/nonexistent/never")
    assert done.returncode == 2 and "--service" in done.stderr
    assert run("--frobnicate").returncode == 2
