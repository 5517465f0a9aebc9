"""`kiosk sample-video FILE`: a video of invented visitors holding up CCCD QR codes, for trying the pipeline
without a camera (the README's walk-through scans one). The last line printed is the ID number of a visitor the
video shows, so that a walk-through can trace them."""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2

from kiosk.commands.common import CommandError, Subcommands
from kiosk.sources.demo import DemoSource

MAX_VISITORS = 500


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("sample-video", help="write a video of invented visitors showing their QR codes")
    parser.add_argument("file", metavar="FILE", help="the video to write (MJPG in an .avi)")
    parser.add_argument("--visitors", type=int, default=8, help="how many visits (default 8, 3.5 s each)")
    parser.add_argument("--seed", type=int, default=0, help="which invented visitors (the same seed, the same video)")
    parser.add_argument("--fps", type=float, default=15.0, help="frames per second (default 15)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.visitors <= MAX_VISITORS:
        raise CommandError(f"--visitors must be 1 to {MAX_VISITORS}")
    if not 1 <= args.fps <= 60:
        raise CommandError("--fps must be 1 to 60")
    path = Path(args.file)
    source = DemoSource(args.seed, realtime=False, fps=args.fps, visitors=args.visitors)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), args.fps, source.size)
    if not writer.isOpened():
        raise CommandError(f"{path}: cannot write a video there")
    frames = 0
    try:
        while (frame := source.read()) is not None:
            writer.write(frame.image)
            frames += 1
    finally:
        writer.release()
    first = source.visit(0).person  # the first visit is always a new, readable person
    assert first is not None
    print(f"{path}: {frames} frames, {args.visitors} visits of invented people; the first one's ID number:")
    print(first.id_number)
    return 0
