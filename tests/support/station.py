"""Building a real Station for the UI tests: real SQLite file, real pipeline, a video file as the camera."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.config import Settings, settings_from_mapping
from kiosk.sources import open_source
from kiosk.store import Store


class InlineExecutor:
    """Runs a task at once on the calling thread (Picard's test trick): with it the task runner calls back before
    `run_in_background` returns, so a test sees the result without waiting. Pipeline jobs keep their own thread."""

    def submit(self, fn: Callable[[], None], /) -> None:
        fn()


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
    inline_tasks: bool = True,
    clock: Callable[[], Any] | None = None,
) -> Any:
    """A started Station on `source` (a video path); closed and its threads joined at teardown.

    What it showed is collected from its signals: `station.shown_views` (every ResultView, in order),
    `station.camera_states`, `station.sounds_played`. `inline_tasks=False`: background jobs on a real thread pool."""
    from kiosk.pipeline import build_pipeline
    from ui.app import make_application, station_services
    from ui.runtime.tasks import TaskRunner
    from ui.station.controller import Station

    make_application()
    store = Store.open(settings.store.db_path)
    pipeline = build_pipeline(settings, store)
    if decoder_wrapper is not None:
        pipeline.decoder = decoder_wrapper(pipeline.decoder)
    tasks = TaskRunner(InlineExecutor()) if inline_tasks else TaskRunner()
    services = dataclasses.replace(
        station_services(store, Path(settings.store.db_path), tasks),
        open_source=open_source_fn or (lambda spec: open_source(spec)),
    )
    station = Station(settings, store, pipeline, services, source=source, clock=clock)
    station.qtbot = qtbot
    station.quit_calls = []
    station.on_quit = lambda: station.quit_calls.append(True)
    station.shown_views, station.camera_states, station.sounds_played = [], [], []
    station.shown.connect(station.shown_views.append)
    station.camera_state_changed.connect(station.camera_states.append)
    station.sounds.played.connect(station.sounds_played.append)
    qtbot.addWidget(station.window)
    station.window.resize(1024, 600)
    station.window.show()
    if start:
        station.start()

    def teardown() -> None:
        station.stop()
        station.window.allow_close = True
        tasks.shutdown()
        store.close()

    station.teardown = teardown
    return station


def wait_for_views(qtbot: Any, station: Any, count: int, timeout_ms: int = 15000) -> list[Any]:
    qtbot.waitUntil(lambda: len(station.shown_views) >= count, timeout=timeout_ms)
    return station.shown_views


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
