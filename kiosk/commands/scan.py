"""`kiosk scan`: the whole pipeline without a window."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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
from kiosk.commands.output import emit
from kiosk.config import with_overrides
from kiosk.pipeline import Pipeline, build_pipeline
from kiosk.retention import apply_retention
from kiosk.sources import open_source
from kiosk.sources.base import Frame, FrameSource, SourceError, SourceState
from kiosk.sources.files import ImageFolderSource
from kiosk.sources.slot import FrameGrabber, LatestFrameSlot
from kiosk.vocabulary import StationMode, words


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("scan", help="run the check-in pipeline without a window")
    parser.add_argument(
        "--source", required=True, help="camera index or device, RTSP/HTTP URL, video file, image folder, or 'demo'"
    )
    add_common_options(parser)
    parser.add_argument("--mode", choices=words(StationMode), help="station mode (default: from config)")
    parser.add_argument(
        "--start-time",
        type=parse_time_option,
        metavar="ISO8601",
        help="clock of a file source's first frame (default: now)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per decision")
    parser.add_argument("--max-frames", type=int, default=0, help="stop after this many frames (0: no limit)")
    parser.set_defaults(func=run)


# A file source's clock runs from --start-time; outside these years it is a typo, and near year 9999 the frame
# times would overflow after the first events were recorded.
START_TIME_RANGE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def run(args: argparse.Namespace) -> int:
    settings = load_settings_from_args(args)
    start_time = in_venue_time(args.start_time, settings)
    if start_time is not None and not START_TIME_RANGE[0] <= start_time < START_TIME_RANGE[1]:
        raise CommandError(f"--start-time {args.start_time.isoformat()}: must lie between 2000 and 2100")
    try:
        source = open_source(args.source)
    except SourceError as error:
        raise CommandError(str(error)) from None
    if isinstance(source, ImageFolderSource):  # each still is one presentation: no next frame will agree
        settings = with_overrides(settings, "camera", {"stable_frames": 1})
    try:
        with open_store_from_args(args, settings) as store:
            apply_retention(store, settings.station.retention_days, datetime.now(UTC))
            settings, trust = station_context(settings, store)
            if args.mode:  # the command line wins over the server's configuration too
                settings = with_overrides(settings, "station", {"mode": args.mode})
            pipeline = build_pipeline(settings, store, trust)
            zone = ZoneInfo(settings.station.timezone)
            _scan(source, pipeline, args, start_time, zone)
    finally:
        source.close()
    return 0


def _scan(
    source: FrameSource, pipeline: Pipeline, args: argparse.Namespace, start: datetime | None, zone: ZoneInfo
) -> None:
    start = start or datetime.now(zone)
    frames = _file_frames(source) if source.is_file else _newest_frames(source)
    for count, frame in enumerate(frames, start=1):
        now = start + timedelta(seconds=frame.position) if source.is_file else datetime.now(zone)
        for result in (*pipeline.auto_checkout_if_due(now), *pipeline.process_frame(frame, now)):
            emit(result, args.json)
        if args.max_frames and count >= args.max_frames:
            break


def _file_frames(source: FrameSource) -> Iterator[Frame]:
    """Every frame, as fast as the machine allows: the clock is the frame's position."""
    while (frame := source.read()) is not None or source.state is not SourceState.ENDED:
        if frame is not None:
            yield frame


def _newest_frames(source: FrameSource) -> Iterator[Frame]:
    """A live source is read on its own thread; decoding takes only the newest frame and drops stale ones."""
    slot: LatestFrameSlot[Frame] = LatestFrameSlot()
    grabber = FrameGrabber(source, slot).start()
    try:
        while True:
            frame = slot.get(timeout=0.5)
            if frame is not None:
                yield frame
            elif slot.closed:  # the source ended and nothing is left
                return
    finally:
        grabber.stop()
