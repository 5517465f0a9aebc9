"""Frame dropping for live sources: decode only the newest frame, never a queue of stale ones."""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

from kiosk.sources.base import Frame, FrameSource, SourceState
from kiosk.threads import os_named

T = TypeVar("T")


class LatestFrameSlot(Generic[T]):
    """A thread-safe single slot: `put` overwrites (the overwritten item counts as dropped), `get` takes the newest.

    The camera thread puts every frame; the decoding thread gets whatever is newest when it is ready again,
    so a slow PC scans a little less often instead of lagging further and further behind."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._has_item = False
        self._closed = False
        self.dropped = 0
        self.delivered = 0

    def put(self, item: T) -> None:
        with self._cond:
            if self._has_item:
                self.dropped += 1
            self._item, self._has_item = item, True
            self._cond.notify()

    def get(self, timeout: float | None = None) -> T | None:
        """The newest item, removing it; None after `timeout` seconds with nothing new, or once closed and empty."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._has_item or self._closed, timeout):
                return None
            if not self._has_item:
                return None
            item, self._item, self._has_item = self._item, None, False
            self.delivered += 1
            return item

    def close(self) -> None:
        """Wakes every waiting `get`; later `get`s return what is left, then None at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed


class FrameGrabber:
    """Reads a live source on its own thread into a LatestFrameSlot. (File sources are read directly: dropping
    frames from a file would make results depend on the machine's speed.)"""

    def __init__(self, source: FrameSource, slot: LatestFrameSlot[Frame], *, idle_s: float = 0.01) -> None:
        self.source, self.slot, self._idle_s = source, slot, idle_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=os_named(self._run, "qrc-grabber"), name="frame-grabber", daemon=True)

    def start(self) -> FrameGrabber:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self.source.read()
            if frame is not None:
                self.slot.put(frame)
            elif self.source.state is SourceState.ENDED:
                break
            else:
                time.sleep(self._idle_s)  # lost / reconnecting: read() already waited a little
        self.slot.close()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
