"""The venue and fleet pages in real Chromium against a real `kiosk-server serve`, with real kiosks syncing
(`kiosk sync --once`): occupancy, a settings change that reaches the kiosk, a kiosk that stopped syncing at the
top of the fleet, enrolment from the page, and what a manager may not see. No page loads anything from another
host. Screenshots go to tmp_path, and to $QRC_CONSOLE_SCREENSHOTS when set (docs/images is made that way)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from kiosk.events import Direction, NewEvent
from kiosk.store import Store
from server.db import open_database
from server.models import kiosks
from tests.support import required
from tests.support.console import CHROMEDRIVER, CHROMIUM, browser_login, chromium, foreign_loads, make_login
from tests.support.postgres import LiveServer
from tests.support.required import unavailable
from tests.support.sync_servers import ROOT, _env

pytestmark = pytest.mark.slow
NAMES = (
    "Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Đức", "Phạm Thu Hương", "Võ Minh Khôi", "Đặng Quỳnh Như",
    "Bùi Thế Vinh", "Hồ Ngọc Ánh", "Ngô Gia Bảo", "Dương Mỹ Linh", "Lý Thu Nhung", "Huỳnh Tấn Phát",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _chromium_installed() -> None:
    if not (CHROMIUM and CHROMEDRIVER):
        unavailable(
            required.CHROMIUM, "needs Debian's chromium and chromium-driver (scripts/setup.sh --test installs them)"
        )


@dataclass
class Station:
    config: Path
    db: Path

    def sync(self) -> str:
        command = [
            sys.executable,
            "-m",
            "kiosk.cli",
            "sync",
            "--once",
            "--config",
            str(self.config),
            "--db",
            str(self.db),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT, env=_env())
        assert done.returncode == 0, done.stderr
        return done.stdout

    def record(self, events: list[NewEvent]) -> None:
        with Store.open(self.db) as store:
            for event in events:
                store.record(event)

    def settings(self) -> Any:
        from kiosk.config import load_settings
        from sync.station_hooks import with_server_config

        with Store.open(self.db) as store:
            return with_server_config(load_settings(self.config), store).station


def _station(folder: Path, server: LiveServer, token: str) -> Station:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "kiosk.toml"
    config.write_text(f'[server]\nurl = "{server.url}"\ntoken = "{token}"\n')
    return Station(config, folder / "events.sqlite3")


def _visit(index: int, direction: Direction, when: datetime) -> NewEvent:
    number = f"0790{95 - index % 40:02d}{100 + index:06d}"
    details = {"phone": f"09031{index:05d}"} if index % 3 == 0 else {}
    return NewEvent(direction, "cccd", number, number, NAMES[index % len(NAMES)], None, when, index, details=details)


def _a_day_at_the_door(now: datetime) -> list[NewEvent]:
    """Twelve visitors over the last hours (four have left), and visits on the six days before."""
    events = [_visit(i, Direction.ENTRY, now - timedelta(minutes=25 * (12 - i) + 3)) for i in range(12)]
    events += [_visit(i, Direction.EXIT, now - timedelta(minutes=25 * (12 - i) - 10)) for i in (0, 2, 5, 7)]
    for day in range(1, 7):
        events += [
            _visit(40 + day * 10 + n, Direction.ENTRY, now - timedelta(days=day, minutes=37 * n))
            for n in range(day * 3)
        ]
    return events


@pytest.fixture
def venue_server(tmp_path: Path, live_server: Callable[..., LiveServer]) -> Iterator[tuple[LiveServer, int, int]]:
    server = live_server()
    engine = open_database(server.db_url)
    venue, other = server.add_venue("Nhà văn hóa Thanh Niên"), server.add_venue("Chợ Bến Thành")
    make_login(engine, "manager", "minh", venue)
    make_login(engine, "admin", "quan")
    engine.dispose()
    yield server, venue, other


def _viewport(driver: Any, width: int, height: int) -> None:
    """Headless Chromium will not make a window under 500 px wide: emulate the phone's viewport instead."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def _login(driver: Any, server: LiveServer, username: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser_login(driver, server.url, username)
    WebDriverWait(driver, 20).until(lambda d: "/console/" in d.current_url)


def _wait_for(driver: Any, css: str) -> Any:
    """The element once the page that has it is loaded (a click's navigation is not waited for by selenium)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 20).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def _assert_styled(driver: Any) -> None:
    """The server's own stylesheets applied (a second, stricter CSP header would block them silently)."""
    background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(243, 245, 247)", background
    sheets = driver.execute_script("return Array.from(document.styleSheets).map(s => s.cssRules.length)")
    assert sheets and all(count > 0 for count in sheets), sheets


def _shoot(driver: Any, tmp_path: Path, name: str, width: int) -> Path:
    """A full-page screenshot, palette-reduced to stay small; copied to $QRC_CONSOLE_SCREENSHOTS when set."""
    from PIL import Image

    _viewport(driver, width, 900)
    height = min(2400, int(driver.execute_script("return document.documentElement.scrollHeight")))
    _viewport(driver, width, height)
    raw = tmp_path / f"{name}-raw.png"
    driver.save_screenshot(str(raw))
    image = Image.open(raw).convert("RGB")
    assert image.getextrema() != ((255, 255), (255, 255), (255, 255)), "a blank page"
    out = tmp_path / f"{name}.png"
    image.quantize(colors=64).save(out, optimize=True)
    target = os.environ.get("QRC_CONSOLE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        (Path(target) / out.name).write_bytes(out.read_bytes())
    return out


def test_venue_page_shows_occupancy_and_its_settings_reach_the_kiosk(
    tmp_path: Path, venue_server: tuple[LiveServer, int, int]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server, venue, _ = venue_server
    station = _station(tmp_path / "gate", server, server.enroll(venue))
    station.record(_a_day_at_the_door(datetime.now(UTC)))
    assert "pending left 0" in station.sync()

    with chromium(width=1280, height=900) as driver:
        _login(driver, server, "minh")
        assert driver.current_url.endswith(f"/console/venues/{venue}")
        assert driver.find_element(By.ID, "occupancy").text.split()[0] == "8"  # 12 came, 4 left
        rows = driver.find_elements(By.CSS_SELECTOR, "#inside-table tbody tr")
        assert len(rows) == 8 and "Võ Minh Khôi" in driver.find_element(By.ID, "inside-table").text
        assert "Nguyễn Văn An" not in driver.find_element(By.ID, "inside-table").text  # left
        assert len(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")) == 24 + 7
        _assert_styled(driver)
        assert foreign_loads(driver, server.url) == []
        _shoot(driver, tmp_path, "console-venue-1280", 1280)

        Select(driver.find_element(By.ID, "mode")).select_by_value("exit")
        capacity = driver.find_element(By.ID, "capacity")
        capacity.clear()
        capacity.send_keys("50")
        Select(driver.find_element(By.ID, "capacity_action")).select_by_value("warn")
        closing = driver.find_element(By.ID, "closing_time")
        driver.execute_script("arguments[0].value = '21:30'", closing)
        dcc = driver.find_element(By.NAME, "cred_dcc")
        if dcc.is_selected():
            dcc.click()
        driver.find_element(By.CSS_SELECTOR, "#settings-form button[type=submit]").click()
        assert "lần đồng bộ tới" in _wait_for(driver, "p.notice").text
        assert "saved=settings" in driver.current_url

        driver.get(f"{server.url}/console/venues/{venue}/evacuation")
        assert driver.find_element(By.ID, "count").text == "8"
        assert "0903100003" in driver.find_element(By.ID, "evacuation-table").text  # phones, for the roll-call
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        shown = "return getComputedStyle(document.querySelector(arguments[0])).display"
        assert driver.execute_script(shown, "header.top") == "none"  # printed: the list alone, no menus or buttons
        assert driver.execute_script(shown, ".actions") == "none"
        assert driver.execute_script(shown, "#evacuation-table") == "table"
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        assert foreign_loads(driver, server.url) == []
        _shoot(driver, tmp_path, "console-venue-evacuation-1280", 1280)

    before = station.settings()
    assert (before.mode, before.capacity) == ("auto", 0)  # the kiosk has not synced since
    station.sync()
    after = station.settings()
    assert (after.mode, after.capacity, after.capacity_action, after.closing_time) == ("exit", 50, "warn", "21:30")
    assert "dcc" not in after.accepted_credentials and "cccd" in after.accepted_credentials

    with chromium(width=390, height=900) as driver:
        _viewport(driver, 390, 900)
        _login(driver, server, "minh")
        assert driver.find_element(By.ID, "occupancy").text.split() == ["8", "/", "50"]
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 390  # no sideways page
        _shoot(driver, tmp_path, "console-venue-390", 390)


def _report_behind(server: LiveServer, token: str) -> None:
    """A kiosk halfway through a backlog with a week-old trust list, as its own report says."""
    import httpx

    from sync import protocol

    ages = {"config": 60.0, "keys": 60.0, "revocations": 60.0, "trust-list": 8 * 86400.0}
    status = {"software_version": "0.0.9", "pending": 412, "refused": 2, "clock_offset_s": 184.0, "ages_s": ages}
    body = protocol.encode_batch([], datetime.now(UTC), status)
    answer = httpx.post(
        f"{server.url}{protocol.EVENTS_PATH}", content=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text


def test_the_fleet_lists_a_kiosk_that_stopped_syncing_first_and_enrols_a_new_one(
    tmp_path: Path, venue_server: tuple[LiveServer, int, int]
) -> None:
    from selenium.webdriver.common.by import By

    server, venue, other = venue_server
    working = _station(tmp_path / "a", server, server.enroll(venue))
    stopped = _station(tmp_path / "b", server, server.enroll(other))
    for station in (working, stopped):
        station.record(_a_day_at_the_door(datetime.now(UTC))[:5])
        station.sync()
    stopped.record(_a_day_at_the_door(datetime.now(UTC))[5:9])  # scans it could not send: it stopped syncing
    engine = open_database(server.db_url)
    stopped_id = max(row.id for row in engine.connect().execute(kiosks.select()))
    with engine.begin() as conn:  # ... two hours ago: the server last heard of it then
        conn.execute(
            update(kiosks).where(kiosks.c.id == stopped_id).values(last_seen_at=datetime.now(UTC) - timedelta(hours=2))
        )
    engine.dispose()
    _report_behind(server, server.enroll(venue))

    with chromium(width=1280, height=900) as driver:
        _login(driver, server, "quan")
        driver.get(f"{server.url}/console/fleet")
        first = driver.find_elements(By.CSS_SELECTOR, "#fleet-table tbody tr")[0]
        assert first.get_attribute("data-kiosk") == str(stopped_id) and "offline" in first.get_attribute("class")
        assert "im lặng hơn 1 giờ" in first.text and "2 giờ" in first.text
        second = driver.find_elements(By.CSS_SELECTOR, "#fleet-table tbody tr")[1]
        assert "behind" in second.get_attribute("class") and "412" in second.text and "+3 min" in second.text
        _assert_styled(driver)
        assert foreign_loads(driver, server.url) == []
        _shoot(driver, tmp_path, "console-fleet-1280", 1280)
        driver.find_element(By.ID, "name").send_keys("Cổng phụ")
        driver.find_element(By.CSS_SELECTOR, "#enrol-form button[type=submit]").click()
        code = _wait_for(driver, "#enrol-code").text
        assert driver.find_element(By.ID, "enrol-qr").get_attribute("naturalWidth") not in (None, "0")
        assert foreign_loads(driver, server.url) == []
        _shoot(driver, tmp_path, "console-fleet-enrol-1280", 1280)
        _viewport(driver, 390, 900)
        driver.get(f"{server.url}/console/fleet")
        _shoot(driver, tmp_path, "console-fleet-390", 390)

    config = tmp_path / "new" / "kiosk.toml"
    command = [
        sys.executable,
        "-m",
        "kiosk.cli",
        "enroll",
        "--server",
        server.url,
        "--code",
        code,
        "--config",
        str(config),
    ]
    enrolled = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT, env=_env())
    assert enrolled.returncode == 0, enrolled.stderr  # the code on the page enrols a real kiosk


def test_a_manager_cannot_open_another_venue_nor_the_fleet(
    tmp_path: Path, venue_server: tuple[LiveServer, int, int]
) -> None:
    from selenium.webdriver.common.by import By

    server, venue, other = venue_server
    with chromium(width=390, height=900) as driver:
        _viewport(driver, 390, 900)
        _login(driver, server, "minh")
        for path in (f"/console/venues/{other}", f"/console/venues/{other}/evacuation", "/console/fleet"):
            driver.get(f"{server.url}{path}")
            assert "Chợ Bến Thành" not in driver.page_source
            assert driver.find_elements(By.CSS_SELECTOR, "#inside-table, #fleet-table") == []
            assert "Không có quyền" in driver.title, path
            assert foreign_loads(driver, server.url) == []
        nav = driver.find_element(By.CSS_SELECTOR, "nav.nav").text
        assert "Thiết bị" not in nav and "Địa điểm" in nav
