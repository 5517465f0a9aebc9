"""What the `kiosk` subcommands share: common options, settings and store from the arguments, time parsing,
the station's context from plugins, and the guard that turns expected failures into one line.

`kiosk.cli` (the entry point) and every command module import this; it imports neither of them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TypeAlias
from zoneinfo import ZoneInfo

from kiosk.config import ConfigError, Settings, default_db_path, load_settings, with_overrides
from kiosk.credentials.base import TrustMaterial
from kiosk.store import Store, StoreError

COMMANDS_GROUP = "qr_checkpoint.commands"
DOCTOR_GROUP = "qr_checkpoint.doctor"  # callables (settings) -> list of (check name, ok, detail)
CONTEXT_GROUP = "qr_checkpoint.station_context"  # callables (settings, store) -> (settings, trust provider)
STATION_COMMAND = "station"

log = logging.getLogger("kiosk")

# What `add_subparsers()` returns; a string because argparse's class is not subscriptable at run time.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CommandError(Exception):
    """A fatal problem for the command at hand, said in one line."""


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """--config and --db, on the main parser and on each subcommand (`kiosk --config X scan` = `kiosk scan
    --config X`). SUPPRESS: a subcommand that is not given them must not overwrite what the main parser read."""
    parser.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS, help="configuration file (default: the user config dir)"
    )
    parser.add_argument(
        "--db", metavar="PATH", default=argparse.SUPPRESS, help="local event database (default: the user data dir)"
    )


def load_settings_from_args(args: argparse.Namespace) -> Settings:
    settings = load_settings(getattr(args, "config", None))
    if getattr(args, "db", None):
        settings = with_overrides(settings, "store", {"db_path": args.db})
    return settings


def open_store_from_args(args: argparse.Namespace, settings: Settings, *, must_exist: bool = False) -> Store:
    """The local store; `must_exist` for commands that only read it (a typo must not create an empty one)."""
    path = Path(settings.store.db_path or default_db_path())
    if must_exist and not path.is_file():
        raise CommandError(f"{path}: no such event database")
    return Store.open(path)


def station_context(settings: Settings, store: Store) -> tuple[Settings, Callable[[], TrustMaterial]]:
    """The settings and trust material a station runs with: what sync pulled from the server, when installed."""
    trust: Callable[[], TrustMaterial] = TrustMaterial
    for entry in entry_points(group=CONTEXT_GROUP):
        try:
            settings, trust = entry.load()(settings, store)
        except Exception as error:  # no server data is better than no station
            log.warning("station context %s unavailable: %s", entry.name, type(error).__name__)
    return settings, trust


def parse_time_option(text: str) -> datetime:
    """An ISO 8601 time from the command line; without an offset it stays naive until `in_venue_time`."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None


def in_venue_time(moment: datetime | None, settings: Settings) -> datetime | None:
    """A time given without an offset is the venue's local time (what its staff read on the clock)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=ZoneInfo(settings.station.timezone))


def run_guarded(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; every expected failure becomes one line on stderr and a non-zero exit, never a traceback."""
    from kiosk.decode.base import DecoderUnavailable  # the commands that run here have the decoders installed

    try:
        return func(args)
    except (CommandError, ConfigError, StoreError, DecoderUnavailable) as error:
        print(f"kiosk: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # a bug: still one line for the operator, the details in the debug log
        log.debug("unexpected error", exc_info=True)
        print(f"kiosk: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 70
