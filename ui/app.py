"""The composition root: settings → store → pipeline → sync → Station window. Nothing else builds core objects:
the station receives what it needs (its services: a source opener, the task runner, the sync factory, enrolment,
the server-config reader) from here and never imports this module."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from kiosk.commands.common import station_context
from kiosk.config import APP_NAME, Settings, default_db_path
from kiosk.pipeline import build_pipeline
from kiosk.retention import apply_retention
from kiosk.sources import open_source
from kiosk.store import Store
from ui.protocols import ServerConfigReader, SyncSetup
from ui.runtime.tasks import TaskRunner
from ui.station.controller import Station
from ui.station.state import StationServices

if TYPE_CHECKING:
    from sync.enroll import EnrollResult

ASSETS = Path(__file__).resolve().parent.parent / "assets"

log = logging.getLogger("qr_checkpoint.station")


# Qt platform plugins that draw without an X or Wayland display (a file, a framebuffer, a VNC client, nothing).
# xcb and wayland need DISPLAY / WAYLAND_DISPLAY: Qt aborts without one, so they do not count on their own.
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"})


def has_display(env: Mapping[str, str] | None = None) -> bool:
    """A window can be shown: an X or Wayland display, or a Qt platform that needs neither (e.g. offscreen)."""
    env = os.environ if env is None else env
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return True
    # "vnc:size=800x600" carries options; "wayland;offscreen" is a list Qt tries in turn
    platforms = (entry.split(":")[0].strip().lower() for entry in (env.get("QT_QPA_PLATFORM") or "").split(";"))
    return any(platform in HEADLESS_PLATFORMS for platform in platforms)


def default_log_path() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME)) / "station.log"


def setup_decision_log(path: Path | None) -> None:
    """Decisions (masked names only) go to the station log file as well as to stdout."""
    logger = logging.getLogger("qr_checkpoint.station")
    logger.setLevel(logging.INFO)
    logger.propagate = False  # stdout already has each decision; stderr stays for problems
    if path is None or any(isinstance(h, logging.FileHandler) for h in logger.handlers):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with the station's font and style sheet.

    Noto Sans (Debian fonts-noto-core, in scripts/debian-packages.txt) draws every Vietnamese letter distinctly in
    regular and bold; DejaVu Sans Bold draws Ủ like Ú ("ĐÃ ĐÚ NGƯỜI"), so it is only the fallback."""
    app = QApplication.instance() or QApplication(argv or ["qr-checkpoint"])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    scale = ui_scale(app)
    font = QFont()
    font.setFamilies(list(STATION_FONTS))
    font.setPixelSize(round(18 * scale))
    app.setFont(font)
    style = ASSETS / "style.qss"
    if style.exists():
        text = style.read_text(encoding="utf-8").replace("@ASSETS@", ASSETS.as_posix())
        app.setStyleSheet(scaled_style(text, scale))
    return app


STATION_FONTS = ("Noto Sans", "DejaVu Sans")


def ui_scale(app: QApplication) -> float:
    """1.0 up to a 720-pixel-high screen (7-inch tablets), growing with the height above that (1080p: 1.5)."""
    screen = app.primaryScreen()
    height = screen.size().height() if screen is not None else 720
    return max(1.0, height / 720)


def scaled_style(text: str, scale: float) -> str:
    """The style sheet with every size above 1px multiplied by `scale` (hairline borders stay 1px)."""
    return re.sub(r"(\d+)px", lambda m: f"{round(int(m.group(1)) * scale) if int(m.group(1)) > 1 else 1}px", text)


def make_sync(settings: Settings, db_path: Path, store: Store) -> SyncSetup:
    """A sync worker (not started) when a server is configured; otherwise a reader of the offline status."""
    try:
        from sync.worker import SyncWorker, read_status
    except ImportError:
        return SyncSetup()
    if settings.server.url and settings.server.token:
        worker = SyncWorker(
            lambda: Store.open(db_path),
            settings.server.url,
            settings.server.token,
            ca_file=settings.server.ca_file or None,
            batch_size=settings.server.batch_size,
            timeout=(5.0, max(1.0, settings.server.timeout_seconds)),
            interval_s=settings.server.sync_interval_seconds,
        )
        return SyncSetup(worker=worker)
    return SyncSetup(read_status=lambda: read_status(store))


def enroll_kiosk(server_url: str, code: str, config_path: str) -> EnrollResult:
    """`sync.enroll.enroll` (imported when used: the station runs without sync when no server is configured)."""
    from sync.enroll import enroll

    return enroll(server_url, code, config_path)


def server_config_reader(store: Store) -> ServerConfigReader:
    """`sync.station_hooks.with_server_config` on this store; the file's settings alone without sync installed."""
    try:
        from sync.station_hooks import with_server_config
    except ImportError:
        return lambda base: base
    return lambda base: with_server_config(base, store)


def station_services(store: Store, db_path: Path, tasks: TaskRunner | None = None) -> StationServices:
    """Everything the station needs besides the store and the pipeline; `tasks` defaults to a thread pool."""
    return StationServices(
        open_source=open_source,
        tasks=tasks or TaskRunner(),
        sync_factory=lambda settings: make_sync(settings, db_path, store),
        enroll=enroll_kiosk,
        server_config=server_config_reader(store),
        retention=lambda days, now: apply_retention(store, days, now),
    )


def open_store(settings: Settings) -> Store:
    return Store.open(Path(settings.store.db_path or default_db_path()))


def build_station(settings: Settings, source: str, store: Store | None = None, with_sync: bool = True) -> Station:
    """A ready (not yet started) Station for `settings`, reading frames from `source`."""
    db_path = Path(settings.store.db_path or default_db_path())
    store = store or Store.open(db_path)
    base = settings  # the config file's values; the running station re-applies newly pulled server ones over it
    settings, trust = station_context(settings, store)  # what sync pulled: server settings, keys, trust list
    pipeline = build_pipeline(settings, store, trust=trust)
    return Station(
        settings,
        store,
        pipeline,
        station_services(store, db_path),
        sync=make_sync(settings, db_path, store) if with_sync else SyncSetup(),
        source=source,
        base_settings=base,
    )
