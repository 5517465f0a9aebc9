"""Drives a real station window through its screens and saves a screenshot of each (run by scripts/screenshots.sh
under Xvfb): idle, entry, rejected, guard panel, questionnaire, PIN, settings. Demo source, throwaway database.
A tool, not part of the station: `python scripts/screenshots.py --size 1024x600 --out docs/screenshots`."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
from PySide6.QtGui import QGuiApplication

from kiosk.config import settings_from_mapping
from ui.app import build_station, make_application, open_store
from ui.pages.pin import hash_pin
from ui.widgets.presenter import ResultView, attention_reason, headline, message_view, reason_text

PIN = "1234"


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until `condition()` or the timeout; True when the condition was met."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        loop = QEventLoop()
        QTimer.singleShot(30, loop.quit)
        loop.exec()
    return condition()


def settle(seconds: float = 0.3) -> None:
    wait_until(lambda: False, seconds)


def save(window: object, out: Path, name: str, size: str) -> Path:
    settle()
    screen = QGuiApplication.primaryScreen()
    on_x = QGuiApplication.platformName() == "xcb"
    # Under X, grab the real screen (what a visitor would see); elsewhere the window renders itself.
    pixmap = screen.grabWindow(0) if on_x else window.grab()  # type: ignore[attr-defined]
    path = out / f"{name}-{size}.png"
    pixmap.save(str(path))
    print(f"saved {path}")
    return path


def more_verdicts(station: Any, views: list[ResultView], window: Any, out: Path, size: str) -> None:
    """A duplicate (the same card again), an entry that needs the staff (amber, with its reason), venue full."""
    moment = datetime.now(UTC)
    first = next(v for v in views if v.outcome == "entry")
    station.back_to_idle()
    duplicate = message_view("duplicate", headline("duplicate"), "", moment, "Asia/Ho_Chi_Minh")
    reason = QCoreApplication.translate("Result", "Already recorded at %1").replace("%1", first.time_text)
    station.results.show_view(dataclasses.replace(duplicate, reason=reason, name=first.name, id_tail=first.id_tail))
    save(window, out, "duplicate", size)
    station.back_to_idle()
    attention = message_view("warning", headline("warning"), attention_reason(("id_mismatch",)), moment, "UTC")
    station.results.show_view(dataclasses.replace(attention, name=first.name, id_tail=first.id_tail))
    save(window, out, "attention", size)
    station.back_to_idle()
    station.results.show_view(message_view("full", headline("full"), reason_text("full"), moment, "UTC"))
    save(window, out, "full", size)
    station.back_to_idle()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="1024x600")
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = (int(part) for part in args.size.split("x"))
    work = Path(tempfile.mkdtemp(prefix="qrc-shots-"))
    settings = settings_from_mapping(
        {
            "station": {
                "capacity": 100,
                "venue_name": "Nhà văn hóa Phường Bến Nghé",
                "questionnaire": "assisted",
                "cooldown_seconds": 300,
                "safety_level": "yellow",
                "safety_assessed_on": "2026-11-20",
            },
            "camera": {"engines": ["zxing", "zbar"], "stable_frames": 2},
            "store": {"db_path": str(work / "events.sqlite3")},
            "ui": {"pin_hash": hash_pin(PIN), "result_hold_seconds": 30.0, "sound": False},
        }
    )
    settings = dataclasses.replace(settings, path=str(work / "config.toml"))
    app = make_application(sys.argv[:1])
    store = open_store(settings)
    station = build_station(settings, "demo", store)
    station.on_quit = lambda: None
    views: list[ResultView] = []
    station.shown.connect(views.append)
    window = station.window
    window.resize(width, height)
    window.showFullScreen()
    try:
        station.start_camera("demo")  # the camera alone first: the idle screen before anyone has scanned
        station.refresh_status()
        wait_until(lambda: window.preview.frames_shown > 2, 10)
        save(window, out, "idle", args.size)
        station.start()
        wait_until(lambda: any(v.outcome == "entry" for v in views), 20)
        save(window, out, "entry", args.size)
        more_verdicts(station, views, window, out, args.size)
        for _attempt in range(3):  # a demo visitor's own result can land right after it: then scan again
            station.submit_payload(b"https://example.com/menu?table=4")
            if wait_until(lambda: bool(views) and views[-1].outcome == "rejected", 5):
                break
        save(window, out, "rejected", args.size)
        station.back_to_idle()
        wait_until(lambda: sum(v.outcome == "entry" for v in views) >= 3, 20)
        station.back_to_idle()
        station.open_guard_panel()
        save(window, out, "guard", args.size)
        station.submit_payload(b"https://example.com/menu?table=4")  # a scan while the guard panel is open
        wait_until(lambda: window.verdict.isVisible(), 5)
        save(window, out, "verdict-over-guard", args.size)
        station.back_to_idle()
        panel = window.guard_panel
        panel.tabs.setCurrentIndex(2)
        panel.assisted.name.setText("Phạm Thị Thu Hương")
        panel.assisted.phone.setText("0987654321")
        panel.assisted.id_number.setText("001185012345")
        panel.assisted.submit_button.click()
        window.questionnaire.answer_all_no()
        window.questionnaire.answer("cough", True)
        save(window, out, "questionnaire", args.size)
        window.questionnaire.cancel_button.click()
        station.open_settings()
        save(window, out, "pin", args.size)
        window.pin_page.field.setText(PIN)
        window.pin_page.ok_button.click()
        save(window, out, "settings", args.size)
    finally:
        station.stop()
        station.services.tasks.shutdown()
        store.close()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
