"""The console in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium), on a real
HTTP server: log in as an authority made with `kiosk-server user add --password-stdin`, trace, export, then the
audit page as an admin shows that trace; CSRF, session fixation and brute force refused; nothing loads from
another host; screenshots at 390 px and 1280 px (saved to docs/images when QRC_CONSOLE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from server.db import open_database
from server.settings import ServerSettings
from tests.support import required
from tests.support.console import (
    CHROMEDRIVER,
    CHROMIUM,
    PASSWORD,
    browser_login,
    chromium,
    foreign_loads,
    make_login,
    threaded_server,
    wait_until_replaced,
)
from tests.support.console_scene import SUBJECT, seed_scene
from tests.support.paths import REPO_ROOT
from tests.support.required import unavailable

pytestmark = pytest.mark.slow
SCREENSHOTS = REPO_ROOT / "docs" / "images"
KEPT = {"login-390", "trace-390", "trace-1280", "audit-1280"}  # the ones the README shows


@pytest.fixture(autouse=True)
def _chromium_installed() -> None:
    if not (CHROMIUM and CHROMEDRIVER):
        unavailable(required.CHROMIUM, "needs Debian's chromium and chromium-driver (scripts/setup.sh --test)")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    engine = open_database(db_url)
    seed_scene(engine)
    made = subprocess.run(
        [sys.executable, "-m", "server.cli", "user", "add", "--db", db_url, "--role", "authority", "--name", "bs.lan"]
        + ["--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    make_login(engine, "admin", "quan.tri")
    settings = ServerSettings(db_url=db_url, login_failures_per_user=4)
    with threaded_server(create_app(settings, engine)) as base:
        yield base
    engine.dispose()


def _by(name: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, name)


def _wait_for(driver: Any, css: str, timeout: float = 60) -> Any:
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        expected_conditions.presence_of_element_located((_by("CSS_SELECTOR"), css))
    )


def _gone(driver: Any, element: Any) -> None:
    wait_until_replaced(driver, element)


def _only_this_server(driver: Any, base: str) -> None:
    assert foreign_loads(driver, base) == [], driver.current_url


def _shot(driver: Any, name: str, width: int, out: Path) -> Path:
    """A full-page screenshot at `width` px: the window grows to the page's height first."""
    driver.set_window_size(width, 600)
    height = int(driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)"))
    driver.set_window_size(width, min(max(height, 600), 2400))
    time.sleep(0.2)
    if out == SCREENSHOTS and f"{name}-{width}" not in KEPT:
        return out
    path = out / f"console-{name}-{width}.png"
    driver.save_screenshot(str(path))
    return path


def _trace(driver: Any, base: str) -> None:
    driver.get(f"{base}/console/trace")
    field = driver.find_element(_by("NAME"), "id_number")  # the form's input named id_number
    field.send_keys(SUBJECT)
    driver.find_element(_by("ID"), "trace-submit").click()
    _wait_for(driver, "#results")


def test_login_trace_export_and_the_audit_page(server: str, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    out = SCREENSHOTS if os.environ.get("QRC_CONSOLE_SCREENSHOTS") == "1" else tmp_path / "shots"
    out.mkdir(exist_ok=True)
    for width in (390, 1280):
        with chromium(width, 900) as driver:
            driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
            driver.get(f"{server}/")
            _only_this_server(driver, server)
            assert driver.find_element(_by("NAME"), "username") and driver.find_element(_by("NAME"), "password")
            _shot(driver, "login", width, out)
            browser_login(driver, server, "bs.lan")
            _wait_for(driver, "#trace-form")
            _only_this_server(driver, server)
            _trace(driver, server)
            page = driver.page_source
            for name in ("Lê Văn Cường", "Phạm Thị Dung", "Võ Minh Em"):
                assert name in page  # co-visitors' full names
            assert "<svg" in page and "0912345678" in page
            _only_this_server(driver, server)
            _shot(driver, "trace", width, out)
            if width == 390:
                driver.find_element(_by("ID"), "export-csv").click()
                deadline = time.monotonic() + 20
                while not list(downloads.glob("*.csv")) and time.monotonic() < deadline:
                    time.sleep(0.2)
                exported = list(downloads.glob("*.csv"))
                assert exported, "no CSV downloaded"
                text = exported[0].read_text(encoding="utf-8-sig")
                assert "Lê Văn Cường" in text and "+07:00" in text and "'=cmd" in text
            for other in ("/console/persons", "/console/tokens"):
                driver.get(f"{server}{other}")
                _wait_for(driver, "main h1")
                _only_this_server(driver, server)
            if width == 1280:  # the language switch keeps the page
                driver.find_element(_by("CSS_SELECTOR"), "a.lang").click()
                _wait_for(driver, "#token-form")
                assert "Log out" in driver.page_source and driver.current_url.endswith("/console/tokens")
            driver.find_element(_by("CSS_SELECTOR"), "form[action='/console/logout'] button").click()
            _wait_for(driver, "form#login")
            browser_login(driver, server, "quan.tri")
            driver.get(f"{server}/console/audit")
            table = _wait_for(driver, "#audit").text
            assert "console:bs.lan" in table and SUBJECT in table
            assert "Xuất kết quả truy vết" in table or "Trace export" in table  # the export of the first round
            _only_this_server(driver, server)
            _shot(driver, "audit", width, out)
    shots = list(out.glob("console-*.png"))
    assert len(shots) >= 4 and all(5_000 < path.stat().st_size < 400_000 for path in shots)


def test_a_form_with_a_forged_csrf_token_is_refused(server: str) -> None:
    with chromium() as driver:
        browser_login(driver, server, "bs.lan")
        _wait_for(driver, "#trace-form")
        driver.execute_script("document.querySelector('#trace-form input[name=csrf_token]').value = 'forged'")
        driver.find_element(_by("NAME"), "id_number").send_keys(SUBJECT)
        button = driver.find_element(_by("ID"), "trace-submit")
        button.click()
        _gone(driver, button)
        assert "Lê Văn Cường" not in driver.page_source and driver.find_elements(_by("ID"), "stale-form")


def test_a_planted_session_id_is_replaced_at_login(server: str) -> None:
    with chromium() as driver:
        driver.get(f"{server}/")
        driver.add_cookie({"name": "qrck_session", "value": "planted-by-an-attacker", "path": "/"})
        browser_login(driver, server, "bs.lan")
        _wait_for(driver, "#trace-form")
        cookie = driver.get_cookie("qrck_session")
        assert cookie and cookie["value"] != "planted-by-an-attacker" and cookie["httpOnly"]
        assert cookie["sameSite"] == "Strict"
        assert driver.execute_script("return document.cookie").find("qrck_session") == -1  # not readable by script


def test_a_brute_force_is_throttled(server: str) -> None:
    with chromium() as driver:
        for attempt in range(5):
            browser_login(driver, server, "bs.lan", f"wrong-{attempt}")
        assert "Quá nhiều lần đăng nhập sai" in driver.page_source
        browser_login(driver, server, "bs.lan")  # the right password waits too
        assert "Quá nhiều lần đăng nhập sai" in driver.page_source
        assert not driver.find_elements(_by("ID"), "trace-form")
