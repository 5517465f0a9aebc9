"""`kiosk export`: the local events as a CSV that Excel opens with Vietnamese intact and no formula injection."""

from __future__ import annotations

import argparse
import sys
from zoneinfo import ZoneInfo

from kiosk.commands.common import (
    CommandError,
    Subcommands,
    add_common_options,
    in_venue_time,
    load_settings_from_args,
    open_store_from_args,
    parse_time_option,
)
from kiosk.csvsafe import write_events_csv


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("export", help="export recorded events as CSV (UTF-8 with BOM)")
    add_common_options(parser)
    parser.add_argument("--csv", required=True, metavar="FILE", help="where to write the CSV")
    parser.add_argument(
        "--from", dest="start", type=parse_time_option, metavar="ISO8601", help="from this time (inclusive)"
    )
    parser.add_argument(
        "--to", dest="end", type=parse_time_option, metavar="ISO8601", help="up to this time (exclusive)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings_from_args(args)
    zone = ZoneInfo(settings.station.timezone)  # times as the venue's staff read them, with their offset
    with open_store_from_args(args, settings, must_exist=True) as store:
        try:
            window = in_venue_time(args.start, settings), in_venue_time(args.end, settings)
            count = write_events_csv(store.events(*window), args.csv, tz=zone)
        except OSError as error:
            raise CommandError(f"{args.csv}: cannot write ({error.strerror})") from None
    print(f"{count} event(s) written to {args.csv}", file=sys.stderr)
    return 0
