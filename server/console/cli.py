"""`kiosk-server user add`: an API token (for a machine) or, with --password-stdin, a console login."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from server import admin
from server.cli_args import Subcommands, add_command, positive_days, positive_id
from server.console.accounts import CONSOLE_ROLES, MAX_PASSWORD_LENGTH, add_console_user
from server.db import open_database


def _read_password() -> str:
    """The first line of standard input, without its line break (`printf %s PW |` and `echo PW |` both work)."""
    line = sys.stdin.readline(MAX_PASSWORD_LENGTH + 2)
    return line.removesuffix("\n").removesuffix("\r")


def cmd_user_add(args: argparse.Namespace) -> None:
    if args.password_stdin:
        _add_login(args)
        return
    from server.auth import hash_secret, token_id
    from server.token_admin import expiry

    if args.role == "admin":
        raise admin.Invalid("an admin logs in to the console: add --password-stdin (API tokens are for machines)")
    expires_at = expiry(datetime.now(UTC), args.expires_days)
    token = admin.add_user(open_database(args.db), args.role, args.venue, args.name, expires_at)
    until = f", valid until {expires_at.isoformat(timespec='seconds')}" if expires_at else ""
    print(f"{args.role} token {token_id(hash_secret(token))}{until} (shown once, keep it secret):", file=sys.stderr)
    print(token)


def _add_login(args: argparse.Namespace) -> None:
    if args.expires_days is not None:
        raise admin.Invalid("--expires-days is for API tokens; a console login does not expire")
    if not args.name:
        raise admin.Invalid("a console login needs --name (it is the user name)")
    user_id = add_console_user(open_database(args.db), args.role, args.name, _read_password(), args.venue)
    venue = f" of venue {args.venue}" if args.role == "manager" else ""
    print(f"console user {user_id} ({args.role}{venue}) added; it logs in at / as:", file=sys.stderr)
    print(args.name)


def cmd_user_logins(args: argparse.Namespace) -> None:
    from server.console.accounts import login_lines

    with open_database(args.db).connect() as conn:
        for line in login_lines(conn):
            print(line)


def cmd_user_disable(args: argparse.Namespace) -> None:
    from server.console.accounts import disable_console_user

    disable_console_user(open_database(args.db), args.name, datetime.now(UTC))
    print(f"console user {args.name!r} disabled; its sessions ended")


def register_user_add(user: Subcommands) -> None:
    """`user add` (a token or a console login), `user logins` and `user disable`."""
    add = add_command(
        user, "add", cmd_user_add, "create a token (prints it on the last line), or a console login (--password-stdin)"
    )
    add.add_argument("--role", required=True, choices=list(CONSOLE_ROLES), help="admin: console logins only")
    add.add_argument("--venue", type=positive_id, help="the venue a manager manages")
    add.add_argument("--name", default="", help="the token's label; with --password-stdin: the user name")
    add.add_argument("--expires-days", type=positive_days, help="the token expires after this (default: never)")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="make a console login NAME instead, its password read from the first line of standard input",
    )
    add_command(user, "logins", cmd_user_logins, "console logins: id, name, role, venue, state")
    disable = add_command(user, "disable", cmd_user_disable, "stop a console login now (its sessions end)")
    disable.add_argument("--name", required=True, help="the user name")
