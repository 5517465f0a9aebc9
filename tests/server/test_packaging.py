"""Installing the central server alone pulls no camera or Qt package, and the server runs without them.

Two checks: the dependency closure of `qr-checkpoint[server]` (the project's requirements from setup.cfg, then
each installed distribution's own requirements, markers evaluated) names none of the station's packages; and a
fresh interpreter in which those packages cannot be imported builds the app, migrates a database and runs the
server's CLI.
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution

from packaging.requirements import Requirement

from tests.support.blocked_imports import STATION_MODULES, blocking_prelude
from tests.support.paths import REPO_ROOT

STATION_ONLY = {
    "opencv-python-headless",
    "opencv-python",
    "numpy",
    "zxing-cpp",
    "pyzbar",
    "pyside6-essentials",
    "pyside6-addons",
    "pyside6",
    "shiboken6",
    "pyserial",
    "requests",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_requirements(extra: str) -> list[Requirement]:
    """The base requirements and those of one extra, as setup.cfg declares them."""
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / "setup.cfg", encoding="utf-8")
    lines = config["options"]["install_requires"].splitlines()
    lines += config["options.extras_require"][extra].splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.strip().startswith("#")]


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution these requirements pull in, following installed distributions' metadata."""
    seen: set[str] = set()
    queue = [(req, frozenset(req.extras)) for req in requirements]
    while queue:
        req, extras = queue.pop()
        name = canonical(req.name)
        if name in seen and not extras:
            continue
        seen.add(name)
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            continue  # an optional dependency of a dependency that is not installed here
        for text in dist.requires or []:
            child = Requirement(text)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(env) for env in environments):
                queue.append((child, frozenset(child.extras)))
    return seen


def test_the_server_extra_pulls_no_station_package() -> None:
    pulled = closure(project_requirements("server"))
    assert {"fastapi", "sqlalchemy", "alembic", "psycopg", "cryptography"} <= pulled  # the check sees the tree
    assert pulled & STATION_ONLY == set()


def test_the_station_extra_is_where_the_camera_and_qt_come_from() -> None:
    """The same check on the station's extra finds them: a closure that missed packages would pass above too."""
    assert {"opencv-python-headless", "zxing-cpp", "pyzbar", "pyside6-essentials"} <= closure(
        project_requirements("station")
    )


SERVER_SESSION = """
from server.app import create_app
from server.cli import main
from server.db import open_database
from server.settings import ServerSettings
url = "sqlite:///" + sys.argv[1]
create_app(ServerSettings(db_url=url), open_database(url))
assert main(["venue", "add", "--db", url, "--name", "Nhà văn hóa"]) in (0, None)
print("imported:", sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED))
"""


def test_the_server_runs_without_any_station_package(tmp_path) -> None:
    script = blocking_prelude(STATION_MODULES) + SERVER_SESSION
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "server.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "imported: []" in done.stdout


def test_the_blocker_does_block(tmp_path) -> None:
    script = blocking_prelude(STATION_MODULES) + "import kiosk.decode.chain\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert done.returncode != 0 and "station package: blocked" in done.stderr
