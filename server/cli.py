"""`kiosk-server`: run the central server and administer it. Every command migrates the database first.

Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import base64
import errno
import getpass
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kiosk.vocabulary import SafetyLevel, words
from server import admin
from server.backup import register as register_backup_commands
from server.cli_args import (
    Subcommands,
    add_command,
    in_zone,
    network,
    parse_date,
    parse_time_option,
    positive_days,
    positive_hours,
    positive_id,
    whole_days,
    zone_option,
)
from server.console.cli import register_user_add
from server.db import DatabaseError, open_database
from server.http_options import RedactQuery, add_http_options, uvicorn_options
from server.keys import ensure_signing_key
from server.personal_cli import register as register_personal_commands
from server.settings import DEFAULT_RETENTION_DAYS, ServerSettings
from server.token_cli import register as register_token_commands
from server.tracing import DEFAULT_MARGIN, DEFAULT_STAY, TraceSettings


class CliError(Exception):
    """A one-line message for the operator."""


class _OneLineParser(argparse.ArgumentParser):
    """Usage mistakes as one line (`--help` still shows the full usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


# --- commands ---------------------------------------------------------------------------------------------------------


def _check_port_free(host: str, port: int) -> None:
    """Fail with one line before uvicorn starts (it would log several lines and exit 3)."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise CliError(f"cannot listen on {host}:{port}: {os.strerror(exc.errno)}") from None
        # Anything else (an IPv6 host, say): let uvicorn try and report.


def _serve_settings(args: argparse.Namespace) -> ServerSettings:
    from server.settings import PURGE_INTERVAL, parse_networks

    return ServerSettings(
        db_url=args.db,
        trace=_trace_settings(args),
        trusted_proxies=parse_networks(args.trusted_proxy),
        retention_days=args.retention_days,
        purge_interval=PURGE_INTERVAL,
        body_timeout=args.body_timeout,
        max_concurrent_ingests=args.ingest_slots,
        timezone=args.timezone,
        api_docs=args.api_docs,
    )


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from server.app import create_app

    if args.read_db:  # the settings (and each worker of --workers N) read it from the environment
        os.environ["QRCK_READ_DB"] = args.read_db
    settings = _serve_settings(args)
    _check_port_free(args.host, args.port)
    engine = open_database(args.db, pool_size=settings.pool_size)
    generated = ensure_signing_key(engine)
    if generated:
        print(f"serve: no signing key yet: generated {generated} (see `kiosk-server keys list`)", file=sys.stderr)
    logging.getLogger("uvicorn.access").addFilter(RedactQuery())
    if args.workers > 1:
        engine.dispose()
        os.environ.update(
            QRCK_SERVER_DB=args.db,
            QRCK_DEFAULT_STAY_MINUTES=str(args.default_stay_minutes),
            QRCK_MARGIN_MINUTES=str(args.margin_minutes),
            QRCK_TRUSTED_PROXIES=",".join(args.trusted_proxy),
            QRCK_RETENTION_DAYS=str(args.retention_days),
            QRCK_HEADER_TIMEOUT=str(args.header_timeout),
            QRCK_BODY_TIMEOUT=str(args.body_timeout),
            QRCK_INGEST_SLOTS=str(args.ingest_slots),
            QRCK_TIMEZONE=args.timezone,
            QRCK_API_DOCS="1" if args.api_docs else "",
        )
        uvicorn.run("server.app:app_factory", factory=True, workers=args.workers, **uvicorn_options(args))  # type: ignore[arg-type]
        return
    uvicorn.run(create_app(settings, engine), **uvicorn_options(args))  # type: ignore[arg-type]


def cmd_venue_add(args: argparse.Namespace) -> None:
    venue_id = admin.add_venue(open_database(args.db), args.name)
    print(f"venue {args.name!r} added; its id:", file=sys.stderr)
    print(venue_id)


def cmd_venue_list(args: argparse.Namespace) -> None:
    from server.models import venues

    with open_database(args.db).connect() as conn:
        for row in conn.execute(select(venues.c.id, venues.c.name, venues.c.safety_level).order_by(venues.c.id)):
            print(f"{row.id}\t{row.name}\t{row.safety_level or '-'}")


def cmd_venue_show(args: argparse.Namespace) -> None:
    with open_database(args.db).connect() as conn:
        print(json.dumps(admin.venue_summary(conn, args.venue), ensure_ascii=False, indent=2))


def cmd_venue_safety(args: argparse.Namespace) -> None:
    admin.set_safety(open_database(args.db), args.venue, args.level, args.assessed_on)
    print(f"venue {args.venue}: safety level {args.level} (assessed {args.assessed_on})")


def _announce_code(code: str, args: argparse.Namespace, kiosk_id: int) -> None:
    from sync.protocol_pull import enrollment_qr_payload

    if args.qr:
        import qrcode

        qrcode.make(enrollment_qr_payload(code, args.server_url)).save(args.qr)
        print(f"enrolment QR saved to {args.qr}", file=sys.stderr)
    print(
        f"kiosk {kiosk_id}: one-time enrolment code (valid {args.expires_hours:g} h): "
        "run `kiosk enroll --server URL --code CODE`",
        file=sys.stderr,
    )
    print(code)


def cmd_kiosk_add(args: argparse.Namespace) -> None:
    if args.count != 1 or args.sheet:
        _add_fleet(args)
        return
    engine = open_database(args.db)
    ttl = timedelta(hours=args.expires_hours)
    kiosk_id, code = admin.add_kiosk(engine, args.venue, args.name, ttl, args.expires_days)
    _announce_code(code, args, kiosk_id)


def _add_fleet(args: argparse.Namespace) -> None:
    """`--count N [--sheet FILE.pdf]`: N kiosks, their codes on stdout (one a line) and on a printable sheet."""
    from server.fleet_sheet import FleetRequest, add_fleet

    ttl = timedelta(hours=args.expires_hours)
    fleet = FleetRequest(args.venue, args.count, args.name, ttl, args.expires_days, args.server_url, args.sheet)
    entries = add_fleet(open_database(args.db), fleet)
    if args.sheet:
        print(f"{len(entries)} enrolment QRs saved to {args.sheet}", file=sys.stderr)
    print(f"{len(entries)} kiosks: one-time enrolment codes (valid {int(args.expires_hours)} h):", file=sys.stderr)
    for entry in entries:
        print(entry.code)


def cmd_kiosk_code(args: argparse.Namespace) -> None:
    ttl = timedelta(hours=args.expires_hours)
    code = admin.reissue_enroll_code(open_database(args.db), args.kiosk, ttl, args.expires_days)
    _announce_code(code, args, args.kiosk)


def cmd_purge(args: argparse.Namespace) -> None:
    """By retention (default): events, declarations and persons. With --before / --older-than-days (and
    --venue): events only, as before."""
    from server.retention import purge_by_retention

    engine = open_database(args.db)
    if args.before is None and args.older_than_days is None:
        if args.venue is not None:
            raise CliError("--venue needs --before or --older-than-days (retention applies to the whole server)")
        purged = purge_by_retention(engine, datetime.now(UTC), timedelta(days=args.retention_days))
        print(
            f"deleted {purged.declarations} declarations and {purged.persons} persons; events deleted:",
            file=sys.stderr,
        )
        print(purged.events)
        return
    before = in_zone(args.before, args.timezone) if args.before else None
    try:
        before = before or datetime.now(UTC) - timedelta(days=args.older_than_days)
    except (OverflowError, ValueError):  # 1e12 days, nan
        raise CliError(f"--older-than-days: not a usable number of days: {args.older_than_days}") from None
    count = admin.purge_events(engine, before, args.venue)
    print(f"deleted events recorded before {before.isoformat()}:", file=sys.stderr)
    print(count)


def cmd_export(args: argparse.Namespace) -> None:
    from kiosk.csvsafe import write_safe_csv
    from server.console.audit import audit_venue_export

    engine = open_database(args.db)
    with engine.connect() as conn:
        admin.venue_row(conn, args.venue)
    audit_venue_export((engine, engine), args.venue, actor=f"cli:{getpass.getuser()}", role="operator")
    count = write_safe_csv(args.csv, admin.EXPORT_HEADER, admin.export_rows(engine, args.venue))
    print(f"{count} events of venue {args.venue} written to {args.csv}", file=sys.stderr)


def cmd_trace(args: argparse.Namespace) -> None:
    from kiosk.csvsafe import write_safe_csv
    from server.routes.trace import Auditee, check_window, run_trace
    from server.tracing import TRACE_CSV_HEADER, trace_csv_rows

    start, end = in_zone(args.start, args.timezone), in_zone(args.end, args.timezone)
    problem = check_window(start, end)
    if problem:
        raise CliError(problem)
    settings = _trace_settings(args)
    who = Auditee(f"cli:{getpass.getuser()}", "operator", exported=bool(args.csv))  # in the audit log
    database = open_database(args.db)
    report = run_trace((database, database), args.id_number, start, end, settings, who)
    if args.csv:
        count = write_safe_csv(args.csv, TRACE_CSV_HEADER, trace_csv_rows(report))
        print(f"{count} rows written to {args.csv}", file=sys.stderr)
    print(json.dumps(report, ensure_ascii=False, indent=2))


def cmd_revoke_add(args: argparse.Namespace) -> None:
    admin.add_revocation(open_database(args.db), args.kind, args.value)  # a key: the same as `keys retire KID`
    print(f"{args.kind} {args.value} revoked")


def cmd_trust_add(args: argparse.Namespace) -> None:
    data = Path(args.cert).read_bytes()
    if b"-----BEGIN" in data:  # PEM: take the base64 between the armour lines
        lines = [line for line in data.decode().splitlines() if line and not line.startswith("-----")]
        data = base64.b64decode("".join(lines))
    print(admin.add_trusted_certificate(open_database(args.db), data))


# --- parser -----------------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="kiosk-server", description="QR Checkpoint central server")
    sub = parser.add_subparsers(dest="command", required=True)
    for add_commands in (_serve_commands, _venue_commands, _kiosk_and_user_commands, _data_commands, _trust_commands):
        add_commands(sub)
    register_backup_commands(sub)  # backup, restore
    register_personal_commands(sub)  # keys generate|rotate|retire|list|import (alias: key add), person card
    return parser


def _serve_commands(sub: Subcommands) -> None:
    serve = add_command(sub, "serve", cmd_serve, "run the HTTP server (migrates the database first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (put a proxy in front)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        type=network,
        default=[],
        help="a proxy address or network whose X-Forwarded-For is believed (repeatable; default: none)",
    )
    add_http_options(serve)  # --max-connections, --header-timeout, --body-timeout, --http, --loop
    serve.add_argument("--api-docs", action="store_true", help="serve /docs and /redoc (they load a CDN's scripts)")
    serve.add_argument("--read-db", metavar="URL", help="a hot standby for tracing and exports (or $QRCK_READ_DB)")
    zone_option(serve)
    _retention_option(serve)
    _trace_options(serve)


def _venue_commands(sub: Subcommands) -> None:
    venue = sub.add_parser("venue", help="venues").add_subparsers(dest="action", required=True)
    add_command(venue, "add", cmd_venue_add, "add a venue; prints its id on the last line").add_argument(
        "--name", required=True
    )
    add_command(venue, "list", cmd_venue_list, "list venues")
    show = add_command(venue, "show", cmd_venue_show, "a venue, its kiosks and event count as JSON")
    show.add_argument("--venue", type=positive_id, required=True)
    safety = add_command(venue, "safety", cmd_venue_safety, "set a venue's safety level")
    safety.add_argument("--venue", type=positive_id, required=True)
    safety.add_argument("--level", required=True, choices=words(SafetyLevel))
    safety.add_argument("--assessed-on", type=parse_date, default=date.today())


def _kiosk_and_user_commands(sub: Subcommands) -> None:
    kiosk = sub.add_parser("kiosk", help="kiosks").add_subparsers(dest="action", required=True)
    add = add_command(kiosk, "add", cmd_kiosk_add, "add a kiosk; prints a one-time enrolment code on the last line")
    add.add_argument("--venue", type=positive_id, required=True)
    _code_options(add)
    add.add_argument("--name", default="", help="its name (with --count: the names' prefix, numbered from 1)")
    add.add_argument("--count", type=int, default=1, help="add this many kiosks at once (one code each)")
    add.add_argument("--sheet", metavar="FILE.pdf", help="a printable A4 sheet of their enrolment QRs")
    add.add_argument("--expires-days", type=whole_days, help="the token its enrolment gives expires (default: never)")
    code = add_command(kiosk, "code", cmd_kiosk_code, "a new enrolment code for an existing kiosk (replaced PC)")
    code.add_argument("--kiosk", type=positive_id, required=True)
    _code_options(code)
    code.add_argument("--expires-days", type=whole_days, help="the token its enrolment gives expires (default: never)")

    user = sub.add_parser("user", help="console logins; manager and authority tokens").add_subparsers(
        dest="action", required=True
    )
    register_user_add(user)  # a token, or with --password-stdin a console login
    register_token_commands(kiosk, user)  # kiosk list|revoke, user list|revoke


def _data_commands(sub: Subcommands) -> None:
    purge = add_command(
        sub, "purge", cmd_purge, "delete what retention no longer allows; prints the events deleted on the last line"
    )
    when = purge.add_mutually_exclusive_group()
    when.add_argument("--before", type=parse_time_option, help="events only: ISO 8601; no offset: --timezone")
    when.add_argument("--older-than-days", type=positive_days, help="events only: e.g. 30")
    _retention_option(purge)
    purge.add_argument("--venue", type=positive_id, help="only this venue")
    zone_option(purge)

    export = add_command(sub, "export", cmd_export, "a venue's events as spreadsheet-safe CSV")
    export.add_argument("--venue", type=positive_id, required=True)
    export.add_argument("--csv", required=True)

    trace = add_command(sub, "trace", cmd_trace, "a person's visits and co-visitors (JSON on stdout)")
    trace.add_argument("--id-number", required=True)
    trace.add_argument("--from", dest="start", type=parse_time_option, required=True, help="ISO 8601; see --timezone")
    trace.add_argument("--to", dest="end", type=parse_time_option, required=True, help="ISO 8601, exclusive")
    zone_option(trace)
    trace.add_argument("--csv", help="also write the contacts as spreadsheet-safe CSV")
    _trace_options(trace)


def _trust_commands(sub: Subcommands) -> None:
    revoke = sub.add_parser("revoke", help="revocations").add_subparsers(dest="action", required=True)
    add = add_command(revoke, "add", cmd_revoke_add, "revoke a person's QR, or a key (= `keys retire KID`)")
    add.add_argument("--kind", required=True, choices=["person", "key"])
    add.add_argument("--value", required=True)

    trust = sub.add_parser("trust", help="EU DCC trust list").add_subparsers(dest="action", required=True)
    add = add_command(trust, "add", cmd_trust_add, "add a signer certificate (DER or PEM); prints its kid")
    add.add_argument("--cert", required=True)


def _code_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--qr", help="also save the code as a QR PNG the kiosk camera can scan")
    parser.add_argument("--server-url", help="put this server address in the QR too")
    parser.add_argument("--expires-hours", type=positive_hours, default=admin.ENROLL_CODE_TTL.total_seconds() / 3600)


def _retention_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--retention-days",
        type=positive_days,
        default=DEFAULT_RETENTION_DAYS,
        help="events, declarations and persons are kept this long after their last use (default 21)",
    )


def _trace_settings(args: argparse.Namespace) -> TraceSettings:
    """--margin-minutes / --default-stay-minutes as settings; nan, inf and absurd values are a one-line error."""
    day = 24 * 60
    margin, stay = args.margin_minutes, args.default_stay_minutes
    if not (0 <= margin <= day and 0 < stay <= day):  # also false for nan
        raise CliError("--margin-minutes: 0 to 1440; --default-stay-minutes: more than 0, at most 1440")
    return TraceSettings(default_stay=timedelta(minutes=stay), margin=timedelta(minutes=margin))


def _trace_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--margin-minutes", type=float, default=DEFAULT_MARGIN.total_seconds() / 60)
    parser.add_argument("--default-stay-minutes", type=float, default=DEFAULT_STAY.total_seconds() / 60)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    func: Callable[[argparse.Namespace], None] = args.func
    try:
        func(args)
    except (CliError, DatabaseError, admin.NotFound, admin.Invalid) as exc:
        return _fail(str(exc))
    except SQLAlchemyError as exc:
        return _fail(f"database error: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}")
    except OSError as exc:
        return _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        return 130
    return 0


def _fail(message: str) -> int:
    print(f"kiosk-server: error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
