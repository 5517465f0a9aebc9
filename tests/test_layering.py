"""The shape of the code: the core knows neither Qt nor the network nor the packages built on it; the kiosk side
never imports the central server; and no production module takes part in an import cycle, counting the imports
inside functions (docs/architecture.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
PRODUCTION = ("kiosk", "sync", "server", "ui")
NETWORK = ("requests", "httpx", "urllib.request", "http.client", "fastapi", "uvicorn")
CAMERA_AND_QT = ("PySide6", "shiboken6", "cv2", "numpy", "zxingcpp", "pyzbar", "serial")
FORBIDDEN = {
    "kiosk": ("ui", "sync", "server", "PySide6", *NETWORK),
    "sync": ("ui", "server", "PySide6"),
    "ui": ("server",),
    "server": ("ui", "kiosk.decode", "kiosk.sources", "kiosk.commands", "kiosk.store", *CAMERA_AND_QT),
}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name a file imports, anywhere in it (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending(package: str, forbidden: Iterable[str]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Module name -> file, for every module of `packages` under `root`."""
    modules = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    """module -> the modules of these packages it imports (relative imports resolved; `from pkg import name` is
    an import of `pkg.name` when that is a module, else of `pkg`)."""
    modules = module_files(root, packages)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node, package, modules):
                owner = _owning_module(target, modules)
                if owner and owner != name:
                    graph[name].add(owner)
    return graph


def _targets(node: ast.AST, package: str, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parents = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join([*parents, base] if base else parents)
    submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
    return submodules if len(submodules) == len(node.names) else [base, *submodules]


def _owning_module(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_core_imports_no_qt_no_network_no_upper_layer():
    assert offending("kiosk", FORBIDDEN["kiosk"]) == []


def test_sync_imports_neither_the_ui_nor_the_server():
    assert offending("sync", FORBIDDEN["sync"]) == []


def test_the_station_never_imports_the_server():
    assert offending("ui", FORBIDDEN["ui"]) == []


def test_the_server_imports_no_camera_no_qt_no_station_code():
    assert offending("server", FORBIDDEN["server"]) == []


def test_no_import_cycle_in_production_code():
    assert cycles(import_graph(ROOT, PRODUCTION)) == []


def test_the_checks_themselves_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import requests\nfrom PySide6 import QtCore\n")
    assert imported_modules(bad) == {"requests", "PySide6"}
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def later():\n    from . import c\n")
    (package / "c.py").write_text("def later():\n    import pkg.a\n")
    (package / "d.py").write_text("from pkg.a import something\n")
    assert cycles(import_graph(tmp_path, ["pkg"])) == [["pkg.a", "pkg.b", "pkg.c"]]


MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def oversized(root: Path, packages: Iterable[str]) -> list[str]:
    """Production modules over MAX_MODULE_LINES and functions over MAX_FUNCTION_LINES, as readable lines."""
    found = []
    for name, path in sorted(module_files(root, packages).items()):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            found.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}.{node.name}: {length} lines")
    return found


def test_production_modules_and_functions_are_small():
    assert oversized(ROOT, PRODUCTION) == []


def test_the_size_check_can_fail(tmp_path):
    package = tmp_path / "big"
    package.mkdir()
    (package / "__init__.py").write_text("def long():\n" + "    x = 1\n" * 61)
    assert oversized(tmp_path, ["big"]) == ["big.long: 62 lines"]


def test_no_module_takes_names_from_its_own_package_init():
    """`from ui import x` inside ui/, where x is not a module, goes through ui/__init__.py: it hides where x
    lives and makes cycles through the package. Importing a submodule (`from sync import protocol`) is fine."""
    modules = module_files(ROOT, PRODUCTION)
    offenders = []
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == package:
                    names = [alias.name for alias in node.names if f"{package}.{alias.name}" not in modules]
                    offenders += [f"{path.relative_to(ROOT)}: from {package} import {name}" for name in names]
    assert offenders == []
