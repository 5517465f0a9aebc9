"""Building a real Station for the UI tests: real SQLite file, real pipeline, a video file as the camera."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.config import Settings, settings_from_mapping
from kiosk.sources import open_source
from kiosk.store import Store


def make_settings(tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    """Settings for a test station: zxing only, 2 stable frames, a config file and a DB in tmp_path."""
    raw: dict[str, dict[str, Any]] = {
        "camera": {"engines": ["zxing"], "stable_frames": 2},
        "store": {"db_path": str(tmp_path / "events.sqlite3")},
        "ui": {"sound": True, "result_hold_seconds": 30.0},
    }
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    return dataclasses.replace(settings_from_mapping(raw), path=str(tmp_path / "config.toml"))


def make_station(
    qtbot: Any,
    settings: Settings,
    source: str = "",
    open_source_fn: Callable[[str], Any] | None = None,
    decoder_wrapper: Callable[[Any], Any] | None = None,
    start: bool = True,
) -> Any:
    """A started Station on `source` (a video path); closed and its threads joined at teardown."""
    from kiosk.pipeline import build_pipeline
    from ui.app import make_application
    from ui.station import Station

    make_application()
    store = Store.open(settings.store.db_path)
    pipeline = build_pipeline(settings, store)
    if decoder_wrapper is not None:
        pipeline.decoder = decoder_wrapper(pipeline.decoder)
    station = Station(settings, store, pipeline, open_source_fn or (lambda spec: open_source(spec)), source=source)
    station.qtbot = qtbot
    station.quit_calls = []
    station.on_quit = lambda: station.quit_calls.append(True)
    qtbot.addWidget(station.window)
    station.window.resize(1024, 600)
    station.window.show()
    if start:
        station.start()

    def teardown() -> None:
        station.stop()
        station.window.allow_close = True
        store.close()

    station.teardown = teardown
    return station


def wait_for_views(qtbot: Any, station: Any, count: int, timeout_ms: int = 15000) -> list[Any]:
    qtbot.waitUntil(lambda: len(station.views) >= count, timeout=timeout_ms)
    return station.views


def stations(qtbot: Any) -> Any:
    """Fixture body (`station_factory = pytest.fixture(stations)` in a test module): make(settings, source=...)
    -> a started Station; every one is stopped after the test."""
    made: list[Any] = []

    def make(settings: Settings, **kwargs: Any) -> Any:
        station = make_station(qtbot, settings, **kwargs)
        made.append(station)
        return station

    yield make
    for station in made:
        station.teardown()
