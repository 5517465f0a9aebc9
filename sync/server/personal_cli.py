"""`kiosk-server keys ...` and `kiosk-server person card ...`: personal-QR signing keys and printable cards.

Registered into the server's CLI by `register(subparsers)`. Errors are admin.Invalid / admin.NotFound /
NoSigningKey, which the CLI prints as one line.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta

from sync.server import admin
from sync.server.db import open_database
from sync.server.settings import DEFAULT_DB_URL

_MEANING = {"active": "signs and verifies", "retired": "verifies only", "revoked": "withdrawn"}


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=os.environ.get("QRCK_SERVER_DB", DEFAULT_DB_URL),
                        help="sqlite:///PATH (default) or postgresql+psycopg://USER@HOST/DB")


def cmd_keys_generate(args: argparse.Namespace) -> None:
    from sync.server.keys import generate_key

    print(generate_key(open_database(args.db)))


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from sync.server.keys import rotate_key

    kid = rotate_key(open_database(args.db))
    print("new active key (earlier keys verify only, until retired):", file=sys.stderr)
    print(kid)


def cmd_keys_retire(args: argparse.Namespace) -> None:
    from sync.server.keys import retire_key

    retire_key(open_database(args.db), args.kid)
    print(f"key {args.kid} retired: kiosks stop accepting its codes at their next sync")


def cmd_keys_list(args: argparse.Namespace) -> None:
    from sync.server.keys import list_keys

    for key in list_keys(open_database(args.db)):
        private = "private key held" if key.has_private_key else "public only"
        print(f"{key.kid}\t{key.alg}\t{key.status} ({_MEANING.get(key.status, '?')})\t"
              f"{key.created_at.isoformat(timespec='seconds')}\t{private}")


def cmd_person_card(args: argparse.Namespace) -> None:
    from sync.server.card import render_card, save_card
    from sync.server.declarations import PersonInput, issue_card
    from sync.server.keys import NoSigningKey

    person = PersonInput(args.name, args.id_number or "", args.date_of_birth, args.phone or "")
    try:
        issued = issue_card(open_database(args.db), person, timedelta(days=args.valid_days))
    except NoSigningKey as exc:
        raise admin.Invalid(str(exc)) from None
    path = save_card(render_card(issued.qr, issued.full_name, issued.person_id, issued.expires_at), args.out)
    print(f"card for person {issued.person_id} saved to {path} (A6, 300 dpi)", file=sys.stderr)
    print(issued.person_id)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `keys` and `person` command groups to the server's CLI."""
    keys = sub.add_parser("keys", help="personal-QR signing keys held by this server").add_subparsers(
        dest="action", required=True)
    for name, func, text in (
        ("generate", cmd_keys_generate, "create the first signing key (prints its kid)"),
        ("rotate", cmd_keys_rotate, "new active key; older keys keep verifying until retired"),
        ("list", cmd_keys_list, "every key, its status and whether its private half is here"),
    ):
        parser = keys.add_parser(name, help=text)
        _db(parser)
        parser.set_defaults(func=func)
    retire = keys.add_parser("retire", help="withdraw a key: kiosks stop accepting its codes")
    _db(retire)
    retire.add_argument("kid")
    retire.set_defaults(func=cmd_keys_retire)

    person = sub.add_parser("person", help="persons and their personal QR").add_subparsers(dest="action",
                                                                                         required=True)
    card = person.add_parser("card", help="a printable A6 card with the person's QR (PNG, or PDF by extension)")
    _db(card)
    card.add_argument("--name", required=True)
    card.add_argument("--id-number", help="CCCD/CMND: the same number gets the same person id")
    card.add_argument("--date-of-birth", type=_iso_date)
    card.add_argument("--phone")
    card.add_argument("--valid-days", type=int, default=180)
    card.add_argument("--out", required=True, help="card.png or card.pdf")
    card.set_defaults(func=cmd_person_card)
