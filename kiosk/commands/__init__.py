"""The core's subcommands of `kiosk`: scan, export, decode, doctor, sample-video."""

from __future__ import annotations

from kiosk.commands.common import Subcommands


def register(commands: Subcommands) -> None:
    # Imported here: these need the station's packages (OpenCV, numpy, the decoders), and `kiosk` without them
    # must still start far enough to say so in one line.
    from kiosk.commands import decode, doctor, export, sample, scan

    for module in (scan, export, decode, doctor, sample):
        module.register(commands)
