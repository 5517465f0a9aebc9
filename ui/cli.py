"""`kiosk station` (and plain `kiosk`, `kiosk --demo`): the Qt station. Registered through the entry point
group `qr_checkpoint.commands`; `kiosk.cli` knows nothing of Qt."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from kiosk.cli import add_common_options


def register_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("station", help="run the check-in station (the default command)")
    parser.add_argument("--demo", action="store_true", help="use the built-in demo source instead of the camera")
    add_common_options(parser)
    parser.add_argument("--source", metavar="SPEC", help="camera index, device, URL or video file (overrides config)")
    parser.add_argument("--log-file", metavar="PATH", help="decision log (default: the user log dir/station.log)")
    parser.add_argument("--windowed", action="store_true", help="a normal window instead of full screen (not in kiosk mode)")
    parser.add_argument("--size", metavar="WxH", help="window size instead of full screen, e.g. 1024x600")
    parser.add_argument("--daily-health-update", action="store_true",
                        help="start in daily health update mode: every scan asks the questionnaire with a "
                             "temperature (config: ui.daily_health_update; the guard panel's switch)")
    parser.set_defaults(func=run_station)


def run_station(args: argparse.Namespace) -> int:
    """Start the station; returns the exit code. Without a display: one line on stderr, exit code 3."""
    from ui.app import has_display

    if not has_display():
        print("kiosk: no display (DISPLAY / WAYLAND_DISPLAY unset): the station needs a screen; "
              "use `kiosk scan` for headless scanning", file=sys.stderr)
        return 3
    from PySide6.QtCore import QTimer

    from kiosk.config import load_settings, with_overrides
    from ui.app import build_station, default_log_path, make_application, setup_decision_log

    settings = load_settings(getattr(args, "config", None))
    command_line: dict[str, dict[str, object]] = {}
    if getattr(args, "db", None):
        settings = with_overrides(settings, "store", {"db_path": args.db})
    if getattr(args, "daily_health_update", False):
        command_line["ui"] = {"daily_health_update": True}
        settings = with_overrides(settings, "ui", command_line["ui"])
    source = "demo" if getattr(args, "demo", False) else (getattr(args, "source", None) or settings.camera.source)
    log_file = getattr(args, "log_file", None)
    setup_decision_log(Path(log_file) if log_file else default_log_path())
    app = make_application(sys.argv[:1])
    station = build_station(settings, source)
    station.command_line = command_line  # kept when the settings page reloads the config file
    # In kiosk mode the window is always full screen; --windowed and --size are for testing on a desk.
    windowed = getattr(args, "windowed", False) and not settings.ui.kiosk_mode
    _show(station.window, windowed, None if settings.ui.kiosk_mode else getattr(args, "size", None))
    signal.signal(signal.SIGINT, lambda *_: station.quit())  # Ctrl+C in a terminal still ends it cleanly
    signal.signal(signal.SIGTERM, lambda *_: station.quit())
    keepalive = QTimer()  # lets Python run its signal handlers while Qt's loop is in C++
    keepalive.timeout.connect(lambda: None)
    keepalive.start(500)
    station.start()
    if station.sync_worker is not None:
        station.sync_worker.start()
    try:
        code = app.exec()
    finally:
        station.stop()
        if station.sync_worker is not None:
            station.sync_worker.stop()
        station.store.close()
    return int(code)


def _show(window: object, windowed: bool, size: str | None) -> None:
    """Full screen (a kiosk) unless asked for a window; `--size` gives a window of that size (screenshots, testing)."""
    if size:
        width, _, height = size.lower().partition("x")
        window.resize(int(width), int(height))  # type: ignore[attr-defined]
        window.show()  # type: ignore[attr-defined]
    elif windowed:
        window.show()  # type: ignore[attr-defined]
    else:
        window.showFullScreen()  # type: ignore[attr-defined]
