"""Serial (USB-COM) 2D scanners: raw bytes by port name through pyserial, one code per line.

Serial mode gives the code's real bytes (keyboard mode goes through the keyboard layout and can break Vietnamese
letters), so a venue with such a scanner should prefer it. A port that disappears is reopened every few seconds.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal

from kiosk.credentials.text import MAX_PAYLOAD_BYTES
from ui.runtime.qt_compat import emit

if TYPE_CHECKING:
    from serial import SerialBase

REOPEN_S = 3.0


def split_lines(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete lines (any of CR, LF, CRLF ends one; empty ones dropped) and the unfinished rest."""
    *lines, rest = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    return [line for line in lines if line], rest


class SerialScannerThread(QThread):
    scanned = Signal(bytes)
    state_changed = Signal(str)  # "open", "closed: <reason>"

    def __init__(self, port: str, baudrate: int = 9600, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.port = port
        self.baudrate = baudrate
        self._stop = threading.Event()
        self.opened = threading.Event()  # set while the port is open (the guard panel and tests can ask)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        import serial  # pyserial, part of the "ui" extra

        while not self._stop.is_set():
            try:
                connection = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.1)
            except (serial.SerialException, ValueError) as error:
                emit(self.state_changed, f"closed: {error}")
                self._stop.wait(REOPEN_S)
                continue
            self.opened.set()
            emit(self.state_changed, "open")
            try:
                self._read(connection)
            except serial.SerialException as error:
                emit(self.state_changed, f"closed: {error}")
            finally:
                self.opened.clear()
                connection.close()

    def _read(self, connection: SerialBase) -> None:
        buffer = b""
        while not self._stop.is_set():
            chunk = connection.read(4096)
            if not chunk:
                continue
            lines, buffer = split_lines(buffer + chunk)
            if len(buffer) > MAX_PAYLOAD_BYTES:
                buffer = b""  # no terminator for far too long: not a scanner's output
            for line in lines:
                emit(self.scanned, line)
