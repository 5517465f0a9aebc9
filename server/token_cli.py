"""`kiosk-server kiosk list|revoke` and `kiosk-server user list|revoke`: tokens with a life."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from server.cli_args import Subcommands, add_command, positive_id
from server.db import open_database


def _now() -> datetime:
    return datetime.now(UTC)


def cmd_kiosk_list(args: argparse.Namespace) -> None:
    from server.token_admin import kiosk_lines

    with open_database(args.db).connect() as conn:
        for line in kiosk_lines(conn, _now()):
            print(line)


def cmd_kiosk_revoke(args: argparse.Namespace) -> None:
    from server.token_admin import revoke_kiosk

    count = revoke_kiosk(open_database(args.db), args.kiosk, _now())
    print(f"kiosk {args.kiosk}: {count} token(s) revoked; it is refused from its next request", file=sys.stderr)
    print(count)


def cmd_user_list(args: argparse.Namespace) -> None:
    from server.token_admin import user_lines

    with open_database(args.db).connect() as conn:
        for line in user_lines(conn, _now()):
            print(line)


def cmd_user_revoke(args: argparse.Namespace) -> None:
    from server.token_admin import revoke_user

    revoke_user(open_database(args.db), args.user, _now())
    print(f"token {args.user} revoked; it is refused from its next request")


def register(kiosk: Subcommands, user: Subcommands) -> None:
    add_command(kiosk, "list", cmd_kiosk_list, "kiosks and their tokens: state and last use")
    revoke = add_command(kiosk, "revoke", cmd_kiosk_revoke, "revoke a kiosk's tokens now (a stolen PC)")
    revoke.add_argument("--kiosk", type=positive_id, required=True)
    add_command(user, "list", cmd_user_list, "manager and authority tokens: id, state and last use")
    revoke = add_command(user, "revoke", cmd_user_revoke, "revoke a manager's or authority's token now")
    revoke.add_argument("--user", required=True, help="the token's id, as `user list` shows")
