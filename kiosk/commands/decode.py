"""`kiosk decode FILE...`: what the station would read in still images, through the frame loop's decoding chain."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kiosk.commands.common import (
    CommandError,
    Subcommands,
    add_common_options,
    in_venue_time,
    load_settings_from_args,
    open_store_from_args,
    parse_time_option,
    station_context,
)
from kiosk.config import Settings
from kiosk.credentials.base import Credential, ParseContext, TrustMaterial
from kiosk.credentials.registry import parse_payload
from kiosk.decode import make_still_chain
from kiosk.decode.base import DecodedCode
from kiosk.decode.images import ImageUnreadable, load_image_noted
from kiosk.store import StoreError


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("decode", help="decode QR codes in image files and print them as JSON")
    parser.add_argument("files", nargs="+", metavar="FILE")
    add_common_options(parser)
    parser.add_argument(
        "--trust-list",
        metavar="FILE",
        help="DCC trust list JSON to verify signatures against (default, with --keys: what this kiosk pulled)",
    )
    parser.add_argument("--keys", metavar="FILE", help="personal QR public keys JSON (as the server publishes)")
    parser.add_argument("--at", type=parse_time_option, metavar="ISO8601", help="the clock for expiry (default: now)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings_from_args(args)
    # Still images: nobody is waiting at a door, so every step runs and every code read by any is printed.
    chain = make_still_chain(list(settings.camera.engines))
    trust = _trust(args) if args.trust_list or args.keys else _pulled_trust(args, settings)
    context = ParseContext(now=in_venue_time(args.at, settings) or datetime.now(UTC), trust=trust)
    missing = 0
    for name in args.files:
        if not Path(name).is_file():
            print(f"kiosk: {name}: no such file", file=sys.stderr)
            missing += 1
            continue
        try:
            image, note = load_image_noted(name)
        except ImageUnreadable as error:  # a verdict on this file (the picture does not decode), not a failure
            print(f"kiosk: {name}: {error}", file=sys.stderr)
            continue
        if note:
            print(f"kiosk: {name}: {note}", file=sys.stderr)
        codes = chain.decode(image)
        if not codes:  # one line per file either way: silence would look like a hang or a skipped file
            print(f"kiosk: {name}: no QR code found ({image.shape[1]}x{image.shape[0]})", file=sys.stderr)
        for code in codes:
            print(json.dumps(describe(name, code, context, settings.station.accept_unknown), ensure_ascii=False))
    return 1 if missing else 0


def describe(name: str, code: DecodedCode, context: ParseContext, accept_unknown: bool = False) -> dict[str, Any]:
    """One decoded code: where it is, its text, and what the station makes of it."""
    parsed = parse_payload(code.data, context, accept_opaque=accept_unknown)
    record: dict[str, Any] = {
        "file": name,
        "text": code.display_text(),  # zxing-cpp's text: ECI or the guessed charset (Shift-JIS, Latin-1)
        "points": [[round(x, 1), round(y, 1)] for x, y in code.points],
        "engine": code.engine,
        "credential": parsed.kind,
    }
    if isinstance(parsed, Credential):
        record.update(_credential_fields(parsed))
    else:
        record.update(
            id_number=parsed.id_number, full_name=parsed.full_name, rejected=parsed.code, reason=parsed.reason
        )
    return record


def _credential_fields(credential: Credential) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id_number": credential.id_number,
        "full_name": credential.full_name,
        "date_of_birth": credential.date_of_birth.isoformat() if credential.date_of_birth else None,
        "sex": credential.sex,
        "warnings": list(credential.warnings),
        "fields": {key: _jsonable(value) for key, value in credential.fields.items()},
    }
    if credential.expires_at is not None:
        fields["expires_at"] = credential.expires_at.isoformat()
    verification = credential.verification
    if verification is not None:
        fields["signature"] = verification.signature
        fields["expired"] = bool(verification.expired)
        if verification.key_usage is not None:
            fields["key_usage"] = verification.key_usage
        if verification.revoked is not None:
            fields["revoked"] = verification.revoked
    return fields


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _pulled_trust(args: argparse.Namespace, settings: Settings) -> TrustMaterial:
    """What this kiosk pulled from its server (keys, revocations, trust list), as the station verifies with;
    nothing when it has no event database yet (decoding must not create one)."""
    try:
        with open_store_from_args(args, settings, must_exist=True) as store:
            _, provider = station_context(settings, store)
            return provider()
    except (CommandError, StoreError):
        return TrustMaterial()


def _trust(args: argparse.Namespace) -> TrustMaterial:
    from kiosk.credentials import trust

    try:
        material = trust.load_trust_list(Path(args.trust_list)) if args.trust_list else TrustMaterial()
        if args.keys:
            material = trust.merge(material, trust.load_personal_keys(Path(args.keys)))
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read trust material: {error}") from None
    return material
