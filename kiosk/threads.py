"""Threads with a name the operating system shows (`top -H`, /proc/PID/task/*/comm): Python's thread names stay
inside Python, so every thread of the station and of `kiosk scan` would otherwise be "python" to IT staff and to
the per-thread CPU of `benchmarks/bench_stream.py`."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

_PR_SET_NAME = 15  # linux/prctl.h
_MAX_NAME = 15  # the kernel keeps 15 bytes and a NUL


def set_os_thread_name(name: str) -> bool:
    """Name the calling thread for the OS (Linux only; elsewhere, or without libc, nothing happens)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_NAME, name.encode()[:_MAX_NAME], 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def os_named(target: Callable[[], None], name: str) -> Callable[[], None]:
    """`target`, naming its thread `name` for the OS first: for `threading.Thread(target=os_named(run, ...))`."""

    def run() -> None:
        set_os_thread_name(name)
        target()

    return run
