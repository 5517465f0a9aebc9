"""The `kiosk` command: headless scanning, export, decoding, a health check; other packages add subcommands.

This module only parses and dispatches (nothing imports it but `__main__`); what the commands share is in
`kiosk.commands.common`. It imports neither `sync` nor `ui`: they register their subcommands (`enroll`, `sync`,
`station`) through the entry point group `qr_checkpoint.commands`, so the core stays free of the network and Qt.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from kiosk.commands import register as register_core_commands
from kiosk.commands.common import COMMANDS_GROUP, STATION_COMMAND, Subcommands, add_common_options, run_guarded

log = logging.getLogger("kiosk")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="QR Checkpoint: venue check-in station")
    parser.add_argument("--demo", action="store_true", help="run the station on the built-in demo source")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (never personal data)")
    add_common_options(parser)
    parser.set_defaults(config=None, db=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    register_core_commands(commands)
    for plugin in _plugins():
        plugin(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
    except ModuleNotFoundError as missing:
        print(
            f"kiosk: {missing.name} is not installed: install the station (pip install 'qr-checkpoint[station]')",
            file=sys.stderr,
        )
        return 2
    known_commands = _subcommand_names(parser)
    wants_station = not any(arg in known_commands for arg in argv) and not {"-h", "--help"} & set(argv)
    if wants_station and STATION_COMMAND in known_commands:
        argv.insert(0, STATION_COMMAND)  # `kiosk` and `kiosk --demo` start the station
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    _quiet_opencv(args.verbose)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        print("kiosk: the station needs the user interface (PySide6): run scripts/setup.sh", file=sys.stderr)
        return 2
    return run_guarded(func, args)


def _quiet_opencv(verbose: bool) -> None:
    """OpenCV's own warnings (e.g. three lines for a camera index that does not exist) would repeat, less
    clearly, the one-line errors we print; keep them for --verbose."""
    try:
        import cv2
    except ModuleNotFoundError:
        return

    if not verbose:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def _plugins() -> list[Callable[[Subcommands], None]]:
    plugins = []
    for entry in entry_points(group=COMMANDS_GROUP):
        try:
            plugins.append(entry.load())
        except ImportError as error:  # e.g. PySide6 not installed: the other commands still work
            log.debug("commands of %s unavailable: %s", entry.name, error)
    return plugins


def _subcommand_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


if __name__ == "__main__":
    sys.exit(main())
