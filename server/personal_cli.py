"""`kiosk-server keys ...` and `kiosk-server person card ...`: personal-QR signing keys and printable cards.

Registered into the server's CLI by `register(subparsers)`. Errors are admin.Invalid / admin.NotFound /
NoSigningKey, which the CLI prints as one line.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

from server import admin
from server.cli_args import Subcommands, add_command, parse_date, whole_days
from server.db import open_database

_MEANING = {"active": "signs and verifies", "retired": "verifies only", "revoked": "withdrawn"}


def _warn_if_unencrypted() -> None:
    """The private key will be stored as is: say so (anyone who can read the database can sign QRs)."""
    from server.keys import PASSPHRASE_ENV

    if not os.environ.get(PASSPHRASE_ENV):
        print(
            f"kiosk-server: warning: {PASSPHRASE_ENV} is not set: the private key is stored unencrypted "
            "in the database",
            file=sys.stderr,
        )


def cmd_keys_generate(args: argparse.Namespace) -> None:
    from server.keys import generate_key

    _warn_if_unencrypted()
    print(generate_key(open_database(args.db)))


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from server.keys import rotate_key

    _warn_if_unencrypted()
    kid = rotate_key(open_database(args.db))
    print("new active key (earlier keys verify only, until retired):", file=sys.stderr)
    print(kid)


def cmd_keys_retire(args: argparse.Namespace) -> None:
    from server.keys import retire_key

    retire_key(open_database(args.db), args.kid)
    print(f"key {args.kid} retired: kiosks stop accepting its codes at their next sync")


def cmd_keys_list(args: argparse.Namespace) -> None:
    from server.keys import list_keys

    for key in list_keys(open_database(args.db)):
        private = "private key held" if key.has_private_key else "public only"
        print(
            f"{key.kid}\t{key.alg}\t{key.status} ({_MEANING.get(key.status, '?')})\t"
            f"{key.created_at.isoformat(timespec='seconds')}\t{private}"
        )


def cmd_keys_import(args: argparse.Namespace) -> None:
    from server.keys import import_public_key

    import_public_key(open_database(args.db), args.kid, args.alg, args.public_key, args.status)
    print(f"key {args.kid} added (public only: kiosks verify its codes, this server never signs with it)")


def cmd_person_card(args: argparse.Namespace) -> None:
    from server.card import render_card, save_card
    from server.declarations import PersonInput, issue_card
    from server.keys import NoSigningKey

    person = PersonInput(args.name, args.id_number or "", args.date_of_birth, args.phone or "")
    try:
        issued = issue_card(open_database(args.db), person, timedelta(days=args.valid_days))
    except NoSigningKey as exc:
        raise admin.Invalid(str(exc)) from None
    path = save_card(render_card(issued.qr, issued.full_name, issued.person_id, issued.expires_at), args.out)
    print(f"card for person {issued.person_id} saved to {path} (A6, 300 dpi)", file=sys.stderr)
    print(issued.person_id)


def cmd_person_conflicts(args: argparse.Namespace) -> None:
    import json

    from server.persons import conflicts

    with open_database(args.db).connect() as conn:
        found = conflicts(conn)
    for person in found:
        print(json.dumps(person, ensure_ascii=False))
    print(f"{len(found)} persons share an ID number with another", file=sys.stderr)


def cmd_person_resolve(args: argparse.Namespace) -> None:
    from server.persons import resolve

    resolve(open_database(args.db), args.person, args.status)
    print(f"person {args.person}: {args.status}")


def _import_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kid", required=True)
    parser.add_argument("--alg", required=True, choices=["Ed25519", "ES256"])
    parser.add_argument("--public-key", required=True, help="base64 raw Ed25519 key or SPKI DER, or PEM")
    parser.add_argument("--status", default="active", choices=["active", "retired", "revoked"])


def register(sub: Subcommands) -> None:
    """Add the `keys` command group (and its alias `key add`) and `person card` to the server's CLI."""
    keys = sub.add_parser("keys", help="personal-QR signing keys (one table; private keys never leave it)")
    group = keys.add_subparsers(dest="action", required=True)
    add_command(group, "generate", cmd_keys_generate, "create the first signing key (prints its kid)")
    add_command(group, "rotate", cmd_keys_rotate, "new active key; older keys keep verifying until retired")
    add_command(group, "retire", cmd_keys_retire, "withdraw a key: kiosks stop accepting its codes").add_argument("kid")
    add_command(group, "list", cmd_keys_list, "every key, its status and whether its private half is here")
    _import_options(
        add_command(group, "import", cmd_keys_import, "publish an externally generated public key (no private half)")
    )
    key = sub.add_parser("key", help="alias: `key add` = `keys import`").add_subparsers(dest="action", required=True)
    _import_options(add_command(key, "add", cmd_keys_import, "same as `keys import`"))

    person = sub.add_parser("person", help="persons and their personal QR")
    person_group = person.add_subparsers(dest="action", required=True)
    add_command(person_group, "conflicts", cmd_person_conflicts, "persons claiming one ID number (JSON lines)")
    resolve = add_command(person_group, "resolve", cmd_person_resolve, "settle a person's claim to their ID number")
    resolve.add_argument("--person", required=True, help="the person id (P + 11 characters)")
    resolve.add_argument(
        "--as",
        dest="status",
        required=True,
        choices=["verified", "rejected", "claimed"],
        help="verified: staff saw the papers; rejected: the claim is false (its QR is revoked too)",
    )
    card = add_command(
        person_group,
        "card",
        cmd_person_card,
        "a printable A6 card with the person's QR (PNG, or PDF by extension)",
    )
    card.add_argument("--name", required=True)
    card.add_argument("--id-number", help="CCCD/CMND: the same number gets the same person id")
    card.add_argument("--date-of-birth", type=parse_date)
    card.add_argument("--phone")
    card.add_argument("--valid-days", type=whole_days, default=180)
    card.add_argument("--out", required=True, help="card.png or card.pdf")
