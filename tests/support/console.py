"""Helpers of the web-console tests: make a login, log in a TestClient / requests session / Chromium, run a
real server in a thread, and list what a page loaded from another host."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

PASSWORD = "mật-khẩu-đủ-dài-42"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def make_login(engine: Engine, role: str, username: str, venue_id: int | None = None, password: str = PASSWORD) -> int:
    from server.console.accounts import add_console_user

    return add_console_user(engine, role, username, password, venue_id)


def csrf_token(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    match = CSRF_FIELD.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def login_client(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Log a FastAPI TestClient in (its cookie jar keeps the session); returns the POST's response (303 = in)."""
    token = csrf_token(client.get("/").text)
    return client.post(
        "/", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False
    )


def login_session(session: Any, base: str, username: str, password: str = PASSWORD) -> Any:
    """Log a requests.Session in against a live server at `base`; returns the POST's response (303 = in)."""
    token = csrf_token(session.get(f"{base}/", timeout=10).text)
    return session.post(
        f"{base}/",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


def page_csrf(client: Any, path: str) -> str:
    """The CSRF token of the logged-in session, read from a page's form (every page has the logout form)."""
    return csrf_token(client.get(path).text)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def threaded_server(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1 in this process; yields its base URL."""
    import uvicorn

    port = _free_port()
    # proxy_headers off, as `kiosk-server serve` has it: the app alone decides whom to believe.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


@contextmanager
def chromium(width: int = 390, height: int = 900) -> Iterator[Any]:
    """A headless Chromium (Debian's chromium + chromium-driver) with a window of this size."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or "chromium"
    for flag in (*CHROMIUM_FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def browser_login(driver: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Type the user name and password into the login form at `/`, submit it and wait for the answer."""
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    button = driver.find_element(By.CSS_SELECTOR, "form#login button[type=submit]")
    button.click()
    wait_until_replaced(driver, button)


def wait_until_replaced(driver: Any, element: Any, timeout: float = 60) -> None:
    """Wait until `element` has left the page (the form was submitted and the answer has loaded).

    Selenium's `staleness_of` only counts StaleElementReferenceException; mid-navigation chromedriver may instead
    answer "Node with given id does not belong to the document", which means the same and must not fail the test."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def replaced(_driver: Any) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:  # stale, or gone mid-navigation
            return True
        return False

    WebDriverWait(driver, timeout).until(replaced)


def foreign_loads(driver: Any, base: str) -> list[str]:
    """Every URL the current page loaded (the page itself and its resources) from a host other than `base`'s."""
    host = urlsplit(base).netloc
    urls = [driver.current_url]
    urls += driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return [url for url in urls if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != host]
