"""`kiosk station` (and plain `kiosk`, `kiosk --demo`): the Qt station. Registered through the entry point
group `qr_checkpoint.commands`; `kiosk.cli` knows nothing of Qt."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.commands.common import Subcommands, add_common_options
from ui import service

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

MAX_WINDOW_SIDE = 16384  # Qt's own limit for a widget's size


def window_size(text: str) -> tuple[int, int]:
    """`--size WxH` (e.g. 1024x600): two positive whole numbers; anything else is argparse's one-line error."""
    width, sep, height = text.strip().lower().partition("x")
    try:
        size = (int(width), int(height)) if sep else None
    except ValueError:
        size = None
    if size is None or not all(0 < side <= MAX_WINDOW_SIDE for side in size):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, e.g. 1024x600, not {text!r}")
    return size


def register_commands(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser("station", help="run the check-in station (the default command)")
    parser.add_argument("--demo", action="store_true", help="use the built-in demo source instead of the camera")
    add_common_options(parser)
    parser.add_argument("--source", metavar="SPEC", help="camera index, device, URL or video file (overrides config)")
    parser.add_argument("--log-file", metavar="PATH", help="decision log (default: the user log dir/station.log)")
    parser.add_argument(
        "--windowed", action="store_true", help="a normal window instead of full screen (not in kiosk mode)"
    )
    parser.add_argument(
        "--size", metavar="WxH", type=window_size, help="window size instead of full screen, e.g. 1024x600"
    )
    parser.add_argument(
        "--daily-health-update",
        action="store_true",
        help="start in daily health update mode: every scan asks the questionnaire with a "
        "temperature (config: ui.daily_health_update; the guard panel's switch)",
    )
    parser.set_defaults(func=run_station)
    service.register_commands(subparsers)  # install-service, uninstall-service


def run_station(args: argparse.Namespace) -> int:
    """Start the station; returns the exit code. Without a display: one line on stderr, exit code 3."""
    from ui.app import has_display

    if not has_display():
        print(
            "kiosk: no display (DISPLAY / WAYLAND_DISPLAY unset): the station needs a screen; "
            "use `kiosk scan` for headless scanning",
            file=sys.stderr,
        )
        return 3
    from PySide6.QtCore import QTimer

    from kiosk.commands.common import load_settings_from_args
    from kiosk.config import with_overrides
    from ui.app import build_station, default_log_path, make_application, open_store, setup_decision_log
    from ui.runtime.sdnotify import ServiceNotifier
    from ui.runtime.touch import use_on_screen_keyboard

    settings = load_settings_from_args(args)
    command_line: dict[str, dict[str, object]] = {}
    if getattr(args, "daily_health_update", False):
        command_line["ui"] = {"daily_health_update": True}
        settings = with_overrides(settings, "ui", command_line["ui"])
    source = "demo" if getattr(args, "demo", False) else (getattr(args, "source", None) or settings.camera.source)
    log_file = getattr(args, "log_file", None)
    setup_decision_log(Path(log_file) if log_file else default_log_path())
    keyboard_problem = use_on_screen_keyboard(settings.ui.on_screen_keyboard)  # before the QApplication
    if keyboard_problem:
        print(f"kiosk: {keyboard_problem}", file=sys.stderr)
    app = make_application(sys.argv[:1])
    store = open_store(settings)
    station = build_station(settings, source, store)
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
    service = ServiceNotifier()  # under systemd: READY=1, then watchdog pings from this event loop
    service.start()
    try:
        code = app.exec()
    finally:
        service.stop()
        station.stop()
        if station.sync_worker is not None:
            station.sync_worker.stop()
        station.services.tasks.shutdown()
        store.close()
    return int(code)


def _show(window: QWidget, windowed: bool, size: tuple[int, int] | None) -> None:
    """Full screen (a kiosk) unless asked for a window; `--size` gives a window of that size (screenshots, testing)."""
    if size:
        window.resize(*size)
        window.show()
    elif windowed:
        window.show()
    else:
        window.showFullScreen()
