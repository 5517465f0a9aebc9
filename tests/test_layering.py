"""The core knows neither Qt nor the network nor the packages built on it (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
FORBIDDEN_IN_CORE = ("ui", "sync", "PySide6", "requests", "httpx", "urllib.request", "http.client", "fastapi")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_core_imports_no_qt_no_network_no_upper_layer():
    assert offending("kiosk", FORBIDDEN_IN_CORE) == []


def test_sync_does_not_import_the_ui():
    assert offending("sync", ("ui", "PySide6")) == []


def test_the_check_itself_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import requests\nfrom PySide6 import QtCore\n")
    assert imported_modules(bad) == {"requests", "PySide6"}
