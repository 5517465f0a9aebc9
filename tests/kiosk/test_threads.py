"""The kiosk's own threads carry their names to the OS, where `top -H` and bench_stream's per-thread CPU see them."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from kiosk.threads import os_named, set_os_thread_name


def _os_thread_names() -> set[str]:
    return {(task / "comm").read_text().strip() for task in Path("/proc/self/task").iterdir()}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl are Linux's")
def test_a_named_thread_is_named_for_the_os_and_long_names_are_cut() -> None:
    seen: list[set[str]] = []
    release = threading.Event()

    def work() -> None:
        seen.append(_os_thread_names())
        release.wait(5)

    thread = threading.Thread(target=os_named(work, "qrc-a-very-long-thread-name"), daemon=True)
    thread.start()
    thread.join(timeout=1)
    release.set()
    thread.join(timeout=5)
    assert seen and "qrc-a-very-long" in seen[0]  # 15 bytes: what the kernel keeps
    assert Path("/proc/self/comm").read_text().strip() != "qrc-a-very-long"  # only that thread was renamed


def test_naming_never_raises() -> None:
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(set_os_thread_name("")))  # not the test's main thread
    thread.start()
    thread.join(timeout=5)
    assert results and isinstance(results[0], bool)
