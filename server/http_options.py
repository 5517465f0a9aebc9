"""How `kiosk-server serve` runs uvicorn: the HTTP parser and event loop, connection limits, and an access log
without query strings."""

from __future__ import annotations

import argparse
import logging

from server.cli_args import positive_id, seconds
from server.settings import INGEST_SLOTS

# Measured in docs/benchmarks.md ("httptools and uvloop"): together they cut the server's CPU per sync by about
# 15 % against h11 and asyncio, interleaved in one session; h11 and asyncio stay as the fallbacks.
HTTP_PARSERS = ("httptools", "h11")
EVENT_LOOPS = ("uvloop", "asyncio")


class RedactQuery(logging.Filter):
    """Access-log lines without query strings: /trace?id_number=... must not put ID numbers in logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], record.args[2].split("?", 1)[0], *record.args[3:])
        return True


def add_http_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-connections", type=positive_id, default=1000, help="beyond this, 503")
    parser.add_argument("--header-timeout", type=seconds, default=15.0, help="seconds for a request's headers")
    parser.add_argument("--body-timeout", type=seconds, default=15.0, help="seconds without a byte of a body")
    parser.add_argument(
        "--ingest-slots",
        type=positive_id,
        default=INGEST_SLOTS,
        help="kiosk batches each worker takes into the database at once; more wait their turn (default: %(default)s)",
    )
    parser.add_argument(
        "--http", choices=HTTP_PARSERS, default=HTTP_PARSERS[0], help="HTTP parser (default: %(default)s)"
    )
    parser.add_argument("--loop", choices=EVENT_LOOPS, default=EVENT_LOOPS[0], help="event loop (default: %(default)s)")


def uvicorn_options(args: argparse.Namespace) -> dict[str, object]:
    """Connection limits: idle keep-alive connections close after 5 s, headers are bounded in size and time
    (server.guard's protocols), bodies in size and time (GuardMiddleware). X-Forwarded-For is read by the app
    from trusted proxies only, so uvicorn's own proxy handling stays off."""
    from server.guard import MAX_HEADER_BYTES, GuardedH11Protocol, GuardedHttpToolsProtocol

    protocol = GuardedHttpToolsProtocol if args.http == "httptools" else GuardedH11Protocol
    protocol.header_timeout = args.header_timeout  # this process; workers read QRCK_HEADER_TIMEOUT
    return {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "proxy_headers": False,
        "http": protocol,
        "loop": args.loop,
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "limit_concurrency": args.max_connections,
    }
