"""systemd's readiness and watchdog notifications (sd_notify(3)) for the station run as a service.

The protocol is one datagram of `KEY=VALUE` lines to the unix socket named in $NOTIFY_SOCKET (a leading "@" is
Linux's abstract namespace). It is a stable, documented interface, so it is written out here rather than taken
from a package: `sdnotify` on PyPI has not been released since 2017, and `systemd-python` is an sdist that needs
libsystemd's headers and a compiler, which an offline kiosk install cannot have.

The watchdog ping is a QTimer on the GUI thread: when Qt's event loop hangs, the pings stop and systemd restarts
the service (`WatchdogSec=`). Outside systemd ($NOTIFY_SOCKET unset) nothing here does anything.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send `message` (e.g. "READY=1") to $NOTIFY_SOCKET; False when there is none or it cannot be reached."""
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return False
    if address[0] == "@":
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8"))
    except OSError as error:  # a notification that cannot be sent must never stop the station
        log.warning("systemd notification failed: %s", error)
        return False
    return True


def watchdog_interval_ms(environ: Mapping[str, str] | None = None) -> int | None:
    """Half the watchdog timeout systemd gave us ($WATCHDOG_USEC), as sd_watchdog_enabled(3) advises; None when
    there is no watchdog. $WATCHDOG_PID is not checked on purpose: under `cage` the service's main process is the
    compositor and the station is its child, so the PID never matches; the unit's `NotifyAccess=all` is what lets
    systemd take the child's pings."""
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0 or not env.get("NOTIFY_SOCKET"):
        return None
    return max(1, usec // 2000)


class ServiceNotifier(QObject):
    """READY=1 once the event loop runs, then WATCHDOG=1 every half watchdog period from that same loop."""

    def __init__(self, environ: Mapping[str, str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._environ = dict(os.environ if environ is None else environ)
        self.pings = 0  # for tests and the status screen
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._ping)
        self.interval_ms = watchdog_interval_ms(self._environ)

    @property
    def active(self) -> bool:
        return bool(self._environ.get("NOTIFY_SOCKET"))

    def start(self) -> None:
        if not self.active:
            return
        # singleShot(0): READY=1 goes out from inside app.exec(), so "ready" means the GUI loop really turns.
        QTimer.singleShot(0, self._ready)
        if self.interval_ms is not None:
            self._timer.start(self.interval_ms)

    def stop(self) -> None:
        self._timer.stop()
        if self.active:
            notify("STOPPING=1", self._environ)

    def _ready(self) -> None:
        notify(f"READY=1\nSTATUS=station running (pid {os.getpid()})", self._environ)

    def _ping(self) -> None:
        if notify("WATCHDOG=1", self._environ):
            self.pings += 1
