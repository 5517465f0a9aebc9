"""Argument helpers shared by the `kiosk-server` command modules (`cli`, `personal_cli`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.settings import DEFAULT_DB_URL, DEFAULT_TIMEZONE

# What `add_subparsers()` returns (of our one-line-error parser); a string: not subscriptable at run time.
Subcommands: TypeAlias = "argparse._SubParsersAction[Any]"


def add_command(
    group: Subcommands,
    name: str,
    func: Callable[[argparse.Namespace], None],
    help: str,  # noqa: A002 - argparse's own word
) -> argparse.ArgumentParser:
    """A subcommand that runs `func` and takes `--db` (every command works on a database)."""
    parser: argparse.ArgumentParser = group.add_parser(name, help=help)
    db_option(parser)
    parser.set_defaults(func=func)
    return parser


def db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=os.environ.get("QRCK_SERVER_DB", DEFAULT_DB_URL),
        help="sqlite:///PATH (default) or postgresql+psycopg://USER@HOST/DB",
    )


def parse_time_option(text: str) -> datetime:
    """An ISO 8601 time: with an offset, an aware UTC datetime; without one it stays naive until `in_zone`
    (it means the server's time zone, `--timezone`). A time with no UTC equivalent is a usage error."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise argparse.ArgumentTypeError(f"outside the years 1-9999 in UTC: {text!r}") from None


def in_zone(moment: datetime, zone_name: str) -> datetime:
    """A parsed time option in UTC, a naive one read in `zone_name`; admin.Invalid (a one-line error of the
    CLI) when it has no UTC equivalent."""
    from server.admin import Invalid

    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    try:
        return moment.replace(tzinfo=ZoneInfo(zone_name)).astimezone(UTC)
    except OverflowError:
        raise Invalid(f"{moment.isoformat()} is outside the years 1-9999 in UTC") from None


def time_zone(text: str) -> str:
    """An IANA time zone name (`--timezone Asia/Ho_Chi_Minh`)."""
    try:
        ZoneInfo(text)
    except (ValueError, ZoneInfoNotFoundError):
        raise argparse.ArgumentTypeError(f"not a time zone: {text!r} (e.g. Asia/Ho_Chi_Minh)") from None
    return text


def zone_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timezone",
        type=time_zone,
        default=os.environ.get("QRCK_TIMEZONE", DEFAULT_TIMEZONE),
        help=f"what a time without an offset means, and the zone of the console (default {DEFAULT_TIMEZONE})",
    )


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def positive_id(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise argparse.ArgumentTypeError(f"not an id: {text!r}")
    return int(text)


def _duration(text: str, unit: str, most: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of {unit}: {text!r}") from None
    if not 0 < value <= most:  # also false for nan
        raise argparse.ArgumentTypeError(f"{unit}: more than 0, at most {most:g}: {text!r}")
    return value


def positive_hours(text: str) -> float:
    """A duration in hours for a code or a token: more than 0 (a dead code is useless), at most ten years."""
    return _duration(text, "hours", 10 * 366 * 24)


def seconds(text: str) -> float:
    """A timeout in seconds: more than 0, at most an hour."""
    return _duration(text, "seconds", 3600)


def positive_days(text: str) -> float:
    """A duration in days (token life, retention): more than 0, at most ten years."""
    return _duration(text, "days", 10 * 366)


def whole_days(text: str) -> int:
    """A whole number of days, 1 to ten years (card validity, kiosk token life)."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}")
    return int(_duration(text, "days", 10 * 366))


def network(text: str) -> str:
    """An IP address or network a proxy connects from (`serve --trusted-proxy`)."""
    from server.settings import parse_networks

    try:
        parse_networks([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
