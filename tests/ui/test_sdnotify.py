"""The watchdog pings come from Qt's event loop: while the loop is blocked, none are sent (systemd then restarts
the station); outside systemd nothing is sent. A real unix datagram socket stands in for systemd's."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ui.runtime.sdnotify import ServiceNotifier, notify, watchdog_interval_ms


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    sock.setblocking(False)
    yield sock, path
    sock.close()


def drain(sock: socket.socket) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def test_ready_then_pings_only_while_the_event_loop_turns(qtbot, notify_socket) -> None:  # noqa: ANN001
    sock, path = notify_socket
    notifier = ServiceNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"})  # a ping every 50 ms
    notifier.start()
    qtbot.waitUntil(lambda: notifier.pings >= 3, timeout=5000)
    received = drain(sock)
    assert received[0].startswith("READY=1") and received.count("WATCHDOG=1") >= 3
    time.sleep(0.5)  # the GUI thread is blocked: a hung station
    assert drain(sock) == []
    qtbot.waitUntil(lambda: "WATCHDOG=1" in drain(sock), timeout=5000)  # the loop turns again: pings resume
    notifier.stop()
    assert "STOPPING=1" in drain(sock)


def test_outside_systemd_nothing_is_sent(qtbot, notify_socket) -> None:  # noqa: ANN001
    notifier = ServiceNotifier({})
    notifier.start()
    qtbot.wait(100)
    assert notifier.pings == 0 and not notifier.active
    assert drain(notify_socket[0]) == []


def test_abstract_socket_names_and_the_watchdog_period() -> None:
    name = f"qrc-test-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert notify("READY=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"READY=1"
    assert not notify("READY=1", {"NOTIFY_SOCKET": "/nonexistent/socket"})  # warns, never raises
    assert watchdog_interval_ms({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "60000000"}) == 30000
    assert watchdog_interval_ms({"WATCHDOG_USEC": "60000000"}) is None  # no socket: nobody to ping
    assert watchdog_interval_ms({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "soon"}) is None
