"""The declaration page in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium).

A phone-sized window fills in the Vietnamese form, submits it, and the QR shown on screen (a screenshot of the
image, as a camera would see it) is decoded by the station's decoder and admitted by the station's rules.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests

from kiosk.credentials import trust
from kiosk.credentials.base import Credential, ParseContext, TrustMaterial
from kiosk.credentials.registry import parse_payload
from kiosk.decode import make_chain
from kiosk.rules import Outcome, Policy, decide
from server import admin
from server.app import create_app
from server.db import open_database
from server.keys import generate_key
from server.settings import ServerSettings
from tests.support import required
from tests.support.console import CHROMEDRIVER, CHROMIUM, chromium, threaded_server
from tests.support.required import unavailable

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _chromium_installed() -> None:
    if not (CHROMIUM and CHROMEDRIVER):
        unavailable(
            required.CHROMIUM, "needs Debian's chromium and chromium-driver (scripts/setup.sh --test installs them)"
        )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A real HTTP server on 127.0.0.1 with a signing key and an enrolled kiosk; yields (base URL, kiosk headers)."""
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    engine = open_database(db_url)
    generate_key(engine)
    _, code = admin.add_kiosk(engine, admin.add_venue(engine, "Nhà văn hóa"), "cổng chính")
    enrolled = admin.enroll(engine, code, datetime.now(UTC))
    assert enrolled is not None
    with threaded_server(create_app(ServerSettings(db_url=db_url), engine)) as base:
        yield base, {"Authorization": f"Bearer {enrolled.token}"}
    engine.dispose()


@pytest.fixture
def browser() -> Iterator[object]:
    with chromium(390, 1400) as driver:
        yield driver


def _kiosk_trust(base: str, headers: dict[str, str]) -> TrustMaterial:
    keys = requests.get(f"{base}/api/v1/keys", headers=headers, timeout=10)
    revocations = requests.get(f"{base}/api/v1/revocations", headers=headers, timeout=10)
    keys.raise_for_status()
    revocations.raise_for_status()
    people, kids = trust.parse_revocations(revocations.json())
    return TrustMaterial(
        personal_keys=trust.parse_personal_keys(keys.json()), revoked_personal_ids=people, revoked_personal_kids=kids
    )


def test_declare_in_chromium_and_get_admitted(server: tuple[str, dict[str, str]], browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    base, headers = server
    driver = browser
    driver.get(f"{base}/declare")  # type: ignore[attr-defined]
    assert "Khai báo y tế" in driver.title  # type: ignore[attr-defined]
    find = driver.find_element  # type: ignore[attr-defined]
    find(By.ID, "full_name").send_keys("Lý Thu Nhung")
    find(By.ID, "id_number").send_keys("038195001234")
    find(By.ID, "phone").send_keys("0912 345 678")
    for key in ("fever", "cough", "breath", "throat", "taste_smell", "contact", "travel"):
        find(By.ID, f"{key}-no").click()
    find(By.ID, "pledge").click()
    find(By.ID, "submit").click()
    image_element = WebDriverWait(driver, 20).until(expected_conditions.presence_of_element_located((By.ID, "qr")))
    assert find(By.ID, "name").text == "Lý Thu Nhung"
    assert find(By.ID, "download").get_attribute("download") == "ma-qr-ca-nhan.png"
    # What a camera would see: the rendered image on the screen.
    shot = np.frombuffer(image_element.screenshot_as_png, np.uint8)
    frame = cv2.imdecode(shot, cv2.IMREAD_COLOR)
    codes = make_chain().decode(frame)
    assert len(codes) == 1 and codes[0].data.startswith(b"QC1:")
    now = datetime.now(UTC)
    parsed = parse_payload(codes[0].data, ParseContext(now=now, trust=_kiosk_trust(base, headers)))
    assert isinstance(parsed, Credential) and parsed.kind == "personal"
    assert parsed.full_name == "Lý Thu Nhung"
    assert parsed.verification is not None and parsed.verification.signature == "valid"
    decision = decide(parsed, None, Policy(declaration_max_age=timedelta(hours=24)), 0, now)
    assert decision.outcome is Outcome.ENTRY, decision.reason


def test_missing_answers_are_caught_by_the_page(server: tuple[str, dict[str, str]], browser: object) -> None:
    from selenium.webdriver.common.by import By

    base, _ = server
    driver = browser
    driver.get(f"{base}/declare?lang=en")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "full_name").send_keys("Lý Thu Nhung")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "phone").send_keys("0912345678")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "submit").click()  # type: ignore[attr-defined]
    time.sleep(0.3)
    # The browser refuses to submit an unanswered questionnaire: still on the form, no QR.
    assert driver.find_elements(By.ID, "qr") == []  # type: ignore[attr-defined]
    assert driver.find_elements(By.ID, "declaration")  # type: ignore[attr-defined]
