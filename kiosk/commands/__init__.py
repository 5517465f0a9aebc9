"""The core's subcommands of `kiosk`: scan, export, decode, doctor."""

from __future__ import annotations

from kiosk.commands import decode, doctor, export, scan
from kiosk.commands.common import Subcommands


def register(commands: Subcommands) -> None:
    for module in (scan, export, decode, doctor):
        module.register(commands)
