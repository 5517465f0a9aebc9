"""`kiosk doctor`: what IT staff check first on a kiosk, as a readable report; non-zero when something is wrong."""

from __future__ import annotations

import argparse
import glob
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import entry_points

from kiosk.commands.common import (
    DOCTOR_GROUP,
    Subcommands,
    add_common_options,
    load_settings_from_args,
    open_store_from_args,
)
from kiosk.config import Settings
from kiosk.sources import open_source
from kiosk.sources.base import FrameSource, SourceError, SourceState
from kiosk.store import StoreError
from kiosk.store.integrity import LOST_EVENTS_KEY

Check = tuple[str, bool, str]  # (what, ok, detail)
EARLIEST_PLAUSIBLE_CLOCK = datetime(2026, 1, 1, tzinfo=UTC)  # before this release: a dead CMOS battery


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("doctor", help="check cameras, decoders, database, server and clock")
    add_common_options(parser)
    parser.add_argument(
        "--probe-cameras", type=int, default=4, metavar="N", help="also list which of the first N webcam indexes work"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings_from_args(args)
    checks = [
        *check_cameras(settings, args.probe_cameras),
        *check_decoders(settings),
        *check_database(args, settings),
        check_clock(),
        *plugin_checks(settings),
    ]
    for name, ok, detail in checks:
        print(f"[{'ok' if ok else 'FAIL'}] {name}: {detail}")
    failed = [name for name, ok, _ in checks if not ok]
    print("all good" if not failed else f"{len(failed)} problem(s): {', '.join(failed)}")
    return 1 if failed else 0


def check_cameras(settings: Settings, probe: int) -> list[Check]:
    """The configured source must open; webcams found are listed to help choose one."""
    import cv2

    devices = sorted(glob.glob("/dev/video*"))
    found = []
    for index in range(probe if devices else 0):
        capture = cv2.VideoCapture(index)
        if capture.isOpened():
            found.append(str(index))
        capture.release()
    listing = f"webcams working: {', '.join(found)}" if found else "no webcam found"
    spec = settings.camera.source
    try:
        source = open_source(spec)
    except SourceError as error:
        return [("camera", False, f"{error}; {listing}; 'demo' or a video file can stand in")]
    try:
        delivered = describe_delivery(source)
    finally:
        source.close()
    return [("camera", True, f"the configured source opens; {delivered}; {listing}")]


def describe_delivery(source: FrameSource, *, frames: int = 20, timeout_s: float = 4.0) -> str:
    """The size and rate the source really delivers (a camera may ignore the 1280x720 MJPG it was asked for)."""
    times: list[float] = []
    size = None
    deadline = time.monotonic() + timeout_s
    while len(times) < frames and time.monotonic() < deadline:
        frame = source.read()
        if frame is None:
            if source.state is SourceState.ENDED:
                break
            continue
        size = frame.image.shape[1], frame.image.shape[0]
        times.append(frame.position)
    if size is None:
        return "but delivered no frame within a few seconds"
    text = f"delivers {size[0]}x{size[1]}"
    if len(times) >= 3 and times[-1] > times[0]:
        fps = (len(times) - 1) / (times[-1] - times[0])
        text += f" at {fps:.1f} fps" + (" (file time)" if source.is_file else "")
    return text


def check_decoders(settings: Settings) -> list[Check]:
    from kiosk.decode import available_engines

    loaded = available_engines()
    wanted = list(settings.camera.engines)
    checks: list[Check] = []
    for name in wanted:
        problem = loaded.get(name)
        checks.append((f"decoder {name}", problem is None, "loaded" if problem is None else problem))
    return checks


def check_database(args: argparse.Namespace, settings: Settings) -> list[Check]:
    try:
        with open_store_from_args(args, settings) as store:
            store.set_state("doctor_last_run", datetime.now(UTC).isoformat())
            pending = store.pending_count()
            damage = store.quick_check()
            lost = store.get_state(LOST_EVENTS_KEY)
    except StoreError as error:
        return [("database", False, str(error))]
    return [("database", True, f"writable; {pending} event(s) not yet on the server"), _integrity(damage, lost)]


def _integrity(damage: list[str], lost: str | None) -> Check:
    """SQLite's own check, and committed events the store noticed missing when it opened (kiosk.store.integrity)."""
    if damage:
        more = f" (+{len(damage) - 1} more)" if len(damage) > 1 else ""
        return ("database integrity", False, f"damaged: {damage[0]}{more}")
    if lost:
        try:
            record = json.loads(lost)
            missing = int(record["expected"]) - int(record["found"])
            detail = f"{missing} committed event(s) were lost (noticed {record['noticed_at']}): restore from a backup"
        except (ValueError, KeyError, TypeError):
            detail = "committed events were lost"
        return ("database integrity", False, detail)
    return ("database integrity", True, "quick_check ok; no committed event missing")


def check_clock() -> Check:
    now = datetime.now(UTC)
    if now < EARLIEST_PLAUSIBLE_CLOCK:
        return ("clock", False, f"{now.isoformat(timespec='seconds')} is before this software was released")
    return ("clock", True, now.astimezone().isoformat(timespec="seconds"))


def plugin_checks(settings: Settings) -> list[Check]:
    """Checks other packages add (the sync client checks the server and the clock offset)."""
    checks: list[Check] = []
    for entry in entry_points(group=DOCTOR_GROUP):
        try:
            check: Callable[[Settings], list[Check]] = entry.load()
            checks.extend(check(settings))
        except Exception as error:  # one broken check must not hide the others
            checks.append((entry.name, False, f"check failed: {type(error).__name__}"))
    return checks
