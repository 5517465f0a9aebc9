"""requirements.lock (what scripts/setup.sh, CI and the bundle install, with hashes) agrees with setup.cfg: every
requirement of the base install and of the station, server and dev extras is pinned, hashed, and inside the
range setup.cfg asks for. A dependency changed in setup.cfg without `scripts/lock.sh` fails here."""

from __future__ import annotations

import configparser
import re

from packaging.requirements import Requirement
from packaging.version import Version

from tests.support.paths import REPO_ROOT


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, tuple[Version, int]]:
    """name -> (pinned version, how many hashes)."""
    text = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
    pins: dict[str, tuple[Version, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\]+)", block)
        if match:
            pins[canonical(match[1])] = (Version(match[2]), block.count("--hash=sha256:"))
    return pins


def declared() -> list[Requirement]:
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / "setup.cfg", encoding="utf-8")
    lines = config["options"]["install_requires"].splitlines()
    for extra in ("station", "server", "dev"):
        lines += config["options.extras_require"][extra].splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.strip().startswith("#")]


def test_every_declared_requirement_is_locked_hashed_and_in_range() -> None:
    pins = locked()
    problems = []
    for requirement in declared():
        pin = pins.get(canonical(requirement.name))
        if pin is None:
            problems.append(f"{requirement.name}: not in requirements.lock")
        elif pin[0] not in requirement.specifier:
            problems.append(f"{requirement.name}: locked {pin[0]} is outside {requirement.specifier}")
        elif pin[1] == 0:
            problems.append(f"{requirement.name}: no hash")
    assert problems == []


def test_the_lock_names_no_local_index() -> None:
    """Hashes are the check, not where the files came from: no machine's own index paths in the lock."""
    text = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert not any(word in text for word in ("--index-url", "--extra-index-url", "--find-links", "file://"))
