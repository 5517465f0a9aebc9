"""`kiosk enroll` and `kiosk sync`: registered into the `kiosk` command through the `qr_checkpoint.commands`
entry point, so `kiosk` itself never imports the network code."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime

from kiosk.commands.common import Subcommands, add_common_options
from sync import clock
from sync.client import SyncClient, SyncReport
from sync.enroll import EnrollError, enroll
from sync.pull import RESOURCES, PullResult
from sync.worker import SyncStatus, SyncWorker, read_status


def register_commands(subparsers: Subcommands) -> None:
    """Add `enroll` and `sync` to the `kiosk` command's subparsers."""
    enroll_parser = subparsers.add_parser("enroll", help="enrol this kiosk with a central server")
    enroll_parser.add_argument(
        "--server", metavar="URL", help="the server, e.g. https://sync.example.vn (optional if the code's QR names it)"
    )
    enroll_parser.add_argument(
        "--code", required=True, help="the one-time enrolment code from IT staff, or the text of its QR"
    )
    enroll_parser.add_argument("--ca-file", metavar="FILE", help="CA certificate(s) to trust for this server")
    enroll_parser.add_argument(
        "--allow-plain-http",
        action="store_true",
        help="allow http:// to a server that is not this machine (closed test networks only)",
    )
    add_common_options(enroll_parser)
    enroll_parser.set_defaults(func=run_enroll)

    sync_parser = subparsers.add_parser("sync", help="send recorded events to the server and fetch its config")
    mode = sync_parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="push everything pending, pull, and exit")
    mode.add_argument("--status", action="store_true", help="show pending count, clock offset, data ages")
    add_common_options(sync_parser)
    sync_parser.set_defaults(func=run_sync)


# -- enroll -------------------------------------------------------------------------------------------------------


def run_enroll(args: argparse.Namespace) -> int:
    try:
        result = enroll(
            args.server, args.code, getattr(args, "config", None), args.ca_file, allow_plain_http=args.allow_plain_http
        )
    except EnrollError as error:
        print(f"kiosk enroll: {error}", file=sys.stderr)
        return 1
    print(f"enrolled as kiosk {result.kiosk_id} of venue {result.venue_id}; settings written to {result.config_path}")
    if result.clock_warning:
        print(
            f"warning: this kiosk's clock is {_offset_text(result.clock_offset_s)}: set the date and time",
            file=sys.stderr,
        )
    return 0


# -- sync ---------------------------------------------------------------------------------------------------------


def run_sync(args: argparse.Namespace) -> int:
    from kiosk.commands.common import CommandError, load_settings_from_args, open_store_from_args

    settings = load_settings_from_args(args)
    if args.status:
        store = open_store_from_args(args, settings)
        try:
            print_status(read_status(store))
        finally:
            _close(store)
        return 0
    server = settings.server
    if not server.url or not server.token:
        raise CommandError("this kiosk is not enrolled: run `kiosk enroll --server URL --code CODE` first")
    ca_file, timeout = server.ca_file or None, (5.0, max(1.0, server.timeout_seconds))
    if args.once:
        store = open_store_from_args(args, settings)
        try:
            client = SyncClient(
                store, server.url, server.token, ca_file=ca_file, timeout=timeout, batch_size=server.batch_size
            )
            return sync_once(client)
        finally:
            _close(store)
    worker = SyncWorker(
        lambda: open_store_from_args(args, settings),
        server.url,
        server.token,
        interval_s=server.sync_interval_seconds,
        on_status=_print_change(),
        ca_file=ca_file,
        timeout=timeout,
        batch_size=server.batch_size,
    )
    return run_foreground(worker)


def sync_once(client: SyncClient) -> int:
    """Push everything pending, pull, report the status; 0 when nothing is left and the server was reachable."""
    try:
        client.start_up()
        report = client.drain()
        # after a failed push the pull would fail the same way: one clear line, not five
        pulled = client.pull() if report.error is None else None
        # the server's fleet page learns the pull ages and the backlog left (a warning if it cannot)
        reported = client.report_status() if pulled is not None and "time" not in pulled.errors else None
    finally:
        client.close()
    print(f"sync: {report.summary()}")
    if reported is not None:
        print(f"warning: {reported.message}", file=sys.stderr)
    if pulled is not None:
        print(f"pull: {_pull_text(pulled)}")
        offset = pulled.clock_offset_s
        if offset is not None and clock.is_off(offset):
            print(f"warning: this kiosk's clock is {_offset_text(offset)}: set the date and time", file=sys.stderr)
    return _exit_code(report, pulled)


def _exit_code(report: SyncReport, pulled: PullResult | None) -> int:
    if report.error is not None:
        print(f"kiosk sync: {report.error.message}", file=sys.stderr)
        return 1
    fatal = [
        e for e in (pulled.errors.values() if pulled else ()) if e.kind in ("unreachable", "timeout", "tls", "auth")
    ]
    if fatal:
        print(f"kiosk sync: {fatal[0].message}", file=sys.stderr)
        return 1
    if pulled is not None and pulled.errors:  # e.g. a server without a trust list yet: say so, still a success
        print(f"warning: {pulled.first_error.message}", file=sys.stderr)  # type: ignore[union-attr]
    if report.pending_left:
        print(f"kiosk sync: {report.pending_left} events still pending", file=sys.stderr)
        return 1
    return 0


def run_foreground(worker: SyncWorker) -> int:
    """Run the background worker until Ctrl-C or SIGTERM (a service manager's stop), then stop it cleanly."""
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    worker.start()
    try:
        while worker.is_alive() and not stopping.is_set():
            stopping.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping sync…", file=sys.stderr)
        worker.stop(timeout=40)
        signal.signal(signal.SIGTERM, previous)
    return 0


def _print_change() -> Callable[[SyncStatus], None]:
    """A status callback that prints one line when something a person cares about changed."""
    last: list[tuple[bool, int, str | None]] = []
    lock = threading.Lock()

    def on_status(status: SyncStatus) -> None:
        if status.last_success is None and status.last_error is None:
            return  # nothing tried yet: "offline" would be a guess
        key = (status.online, status.pending, status.last_error)
        with lock:
            if last and last[0] == key:
                return
            last[:] = [key]
        state = "online" if status.online else "offline"
        error = f", last error: {status.last_error}" if status.last_error else ""
        print(f"sync: {state}, {status.pending} pending{error}", flush=True)

    return on_status


# -- output -------------------------------------------------------------------------------------------------------


def print_status(status: SyncStatus, now: datetime | None = None) -> None:
    print(f"pending events: {status.pending}")
    if status.refused:
        print(f"refused by the server, kept here: {status.refused} (latest reason: {status.last_refusal or '-'})")
    if status.clock_offset_s is None:
        print("clock offset: never measured (the kiosk has not reached its server)")
    else:
        flag = "  WARNING: set the date and time" if status.offset_warning else ""
        print(f"clock offset: {_offset_text(status.clock_offset_s)}{flag}")
    for name in RESOURCES:
        age = status.age_s(name, now)
        print(f"{name}: " + ("never fetched" if age is None else f"fetched {_age_text(age)} ago"))


def _pull_text(pulled: PullResult) -> str:
    return ", ".join(f"{name} {outcome}" for name, outcome in pulled.outcomes.items()) or "nothing"


def _offset_text(offset_s: float) -> str:
    direction = "behind" if offset_s > 0 else "ahead of"
    return f"{abs(offset_s):.1f} s {direction} the server"


def _age_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _close(store: object) -> None:
    close = getattr(store, "close", None)
    if callable(close):
        close()


def main(argv: list[str] | None = None) -> int:
    """`python -m sync.cli enroll|sync ...`: the same commands without the rest of `kiosk` (tests, recovery)."""
    from kiosk.commands.common import run_guarded

    parser = argparse.ArgumentParser(prog="python -m sync.cli")
    register_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    return run_guarded(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
