"""Prints the part of requirements.lock that the given extras of qr-checkpoint need at run time, hashes included.

Usage: runtime_lock.py requirements.lock EXTRA...   (run with the project's .venv, where the lock is installed)

The lock pins the station, the server and the test tools together (scripts/lock.sh); an offline bundle carries
only what runs on a kiosk or a server. The dependency tree is read from the installed packages' metadata, so it
is the one pip resolved, and each kept block is copied from the lock verbatim (its pins and hashes unchanged).
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_names(project: str, extras: list[str]) -> set[str]:
    """The project's dependencies with these extras, and theirs, transitively (markers evaluated here)."""
    seen: set[str] = set()
    todo: list[tuple[str, tuple[str, ...]]] = [(project, tuple(extras))]
    while todo:
        name, wanted = todo.pop()
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            raise SystemExit(f"runtime_lock: {name} is not installed: run scripts/setup.sh first") from None
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is not None and not any(
                requirement.marker.evaluate({"extra": extra}) for extra in (*wanted, "")
            ):
                continue
            key = canonical(requirement.name)
            if key not in seen:
                seen.add(key)
                todo.append((requirement.name, tuple(requirement.extras)))
    return seen


def lock_blocks(text: str) -> dict[str, str]:
    """name -> its block of the lock (the pin line, its --hash lines and its `# via` comments)."""
    blocks: dict[str, str] = {}
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if line[:1].isalnum():
            current = [line]
            blocks[canonical(line.split("==", 1)[0])] = ""
        elif current and line.startswith(" "):
            current.append(line)
        else:
            continue
        blocks[canonical(current[0].split("==", 1)[0])] = "".join(current)
    return blocks


def main(argv: list[str]) -> int:
    lock, extras = Path(argv[0]), argv[1:]
    blocks = lock_blocks(lock.read_text(encoding="utf-8"))
    names = runtime_names("qr-checkpoint", extras)
    missing = sorted(names - blocks.keys())
    if missing:
        print(f"runtime_lock: not in {lock}: {', '.join(missing)} (run scripts/lock.sh)", file=sys.stderr)
        return 1
    print(f"# The runtime part of {lock.name} for qr-checkpoint[{','.join(extras)}] (scripts/runtime_lock.py)")
    for name in sorted(names):
        sys.stdout.write(blocks[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
