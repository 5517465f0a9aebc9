"""The core's subcommands of `kiosk`: scan, export, decode, doctor."""

from __future__ import annotations

import argparse

from kiosk.commands import decode, doctor, export, scan


def register(commands: argparse._SubParsersAction) -> None:
    for module in (scan, export, decode, doctor):
        module.register(commands)
