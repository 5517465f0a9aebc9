"""Live sources: a USB webcam or an IP camera, reopened with backoff when lost.

`read()` never raises and never blocks for long while the camera is away: it returns None and the state says
why (LOST, then RECONNECTING). Reopening happens on a small background thread, so a slow RTSP open or a USB
device that takes seconds to come back does not freeze the caller's loop."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import cv2
import numpy as np

from kiosk.sources.base import Frame, SourceError, SourceState
from kiosk.threads import os_named

log = logging.getLogger(__name__)


class CaptureLike(Protocol):
    """The part of cv2.VideoCapture a live source uses (tests pass a real VideoCapture on a file)."""

    def isOpened(self) -> bool: ...  # noqa: N802 - OpenCV's name

    def read(self) -> tuple[bool, Any]: ...

    def release(self) -> None: ...


Opener = Callable[[], CaptureLike]


def webcam_opener(device: int | str, *, width: int = 1280, height: int = 720, fourcc: str = "MJPG") -> Opener:
    """Opens a USB camera (index or /dev/videoN) asking for width×height in MJPG (YUYV at 720p is ~10 fps on USB 2)."""

    def open_capture() -> CaptureLike:
        if sys.platform.startswith("linux"):
            cap = cv2.VideoCapture(device, cv2.CAP_V4L2)
        else:
            cap = cv2.VideoCapture(device)
        if cap.isOpened():
            # FOURCC before the size: some V4L2 drivers only offer 720p once MJPG is chosen.
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*fourcc))
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not one queued seconds ago
        return cap

    return open_capture


def network_opener(url: str, *, timeout_s: float = 5.0) -> Opener:
    """Opens an RTSP/HTTP camera stream through FFmpeg with open and read timeouts (a dead camera must not hang)."""
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        int(timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        int(timeout_s * 1000),
    ]

    def open_capture() -> CaptureLike:
        return cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)

    return open_capture


class CameraSource:
    """A live camera. `position` is monotonic seconds since the source was opened.

    `opener` makes a new capture each time (at start and on every reconnect attempt). A camera that cannot be
    opened at start raises SourceError; one lost later (`max_failed_reads` failed reads in a row, or a failed
    read after `lost_after_s` without a frame) is retried forever with exponential backoff (`backoff_initial_s`
    doubling up to `backoff_max_s`)."""

    is_file = False

    def __init__(
        self,
        opener: Opener,
        *,
        description: str = "camera",
        backoff_initial_s: float = 0.25,
        backoff_max_s: float = 5.0,
        max_failed_reads: int = 3,
        lost_after_s: float = 2.0,
        poll_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.description = description
        self._opener = opener
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._max_failed_reads = max(1, max_failed_reads)
        self._lost_after_s = lost_after_s
        self._poll_s = poll_s
        self._clock = clock
        self._cap: CaptureLike | None = _open_or_raise(opener, description)
        self._state = SourceState.OK
        self._start = clock()
        self._last_good = self._start
        self._index = 0
        self._failed_reads = 0
        self._lock = threading.Lock()
        self._reopened: CaptureLike | None = None
        self._reopened_event = threading.Event()
        self._closed = threading.Event()
        self._reconnector: threading.Thread | None = None
        self.reconnect_attempts = 0  # for the status screen and tests
        self.reconnects = 0

    @property
    def state(self) -> SourceState:
        return self._state

    def read(self) -> Frame | None:
        """The next frame, or None (lost / reconnecting / closed). Never raises."""
        if self._closed.is_set():
            return None
        if self._state is SourceState.LOST:
            self._start_reconnect()
            return None
        if self._state is SourceState.RECONNECTING and not self._take_reopened():
            return None
        return self._read_frame()

    def _read_frame(self) -> Frame | None:
        cap = self._cap
        ok, image = False, None
        if cap is not None:
            try:
                ok, image = cap.read()
            except Exception:  # noqa: BLE001 - a driver error is a lost camera, never a crash of the loop
                ok = False
        now = self._clock()
        if ok and isinstance(image, np.ndarray) and image.size:
            self._failed_reads, self._last_good = 0, now
            frame = Frame(image, self._index, now - self._start)
            self._index += 1
            return frame
        self._failed_reads += 1
        # A USB camera fails fast (several quick failures); a stalled IP camera fails slowly (one read that
        # timed out after seconds): either way it is lost.
        stalled = now - self._last_good > self._lost_after_s
        if self._failed_reads >= self._max_failed_reads or stalled or cap is None or not cap.isOpened():
            self._lose()
        return None

    def _lose(self) -> None:
        log.warning("%s lost; reconnecting", self.description)
        _release(self._cap)
        self._cap = None
        self._state = SourceState.LOST

    def _start_reconnect(self) -> None:
        self._state = SourceState.RECONNECTING
        self._reopened_event.clear()
        self._reconnector = threading.Thread(
            target=os_named(self._reconnect_loop, "qrc-reconnect"), name="camera-reconnect", daemon=True
        )
        self._reconnector.start()

    def _reconnect_loop(self) -> None:
        delay = self._backoff_initial_s
        while not self._closed.wait(delay):
            self.reconnect_attempts += 1
            cap = _try_open(self._opener)
            if cap is not None:
                with self._lock:
                    self._reopened = cap
                self._reopened_event.set()
                return
            delay = min(delay * 2, self._backoff_max_s)

    def _take_reopened(self) -> bool:
        """Swaps in a capture the reconnect thread opened; waits at most `poll_s` so callers do not spin."""
        if not self._reopened_event.wait(self._poll_s):
            return False
        with self._lock:
            cap, self._reopened = self._reopened, None
        if cap is None:
            return False
        if self._closed.is_set():
            _release(cap)
            return False
        self._cap, self._failed_reads, self._state = cap, 0, SourceState.OK
        self._last_good = self._clock()
        self.reconnects += 1
        log.info("%s reconnected", self.description)
        return True

    def close(self) -> None:
        self._closed.set()
        self._state = SourceState.ENDED
        _release(self._cap)
        self._cap = None
        if self._reconnector is not None:
            self._reconnector.join(timeout=1.0)
        with self._lock:
            _release(self._reopened)
            self._reopened = None


def _open_or_raise(opener: Opener, description: str) -> CaptureLike:
    try:
        cap = opener()
    except Exception as exc:  # noqa: BLE001 - any failure to open is one user-facing line
        raise SourceError(f"{description} could not be opened: {exc}") from exc
    if not cap.isOpened():
        _release(cap)
        raise SourceError(f"{description} could not be opened (not connected, in use, or no permission)")
    return cap


def _try_open(opener: Opener) -> CaptureLike | None:
    try:
        cap = opener()
    except Exception:  # noqa: BLE001 - keep retrying; the state already says we are reconnecting
        return None
    if cap.isOpened():
        return cap
    _release(cap)
    return None


def _release(cap: CaptureLike | None) -> None:
    if cap is not None:
        try:
            cap.release()
        except Exception:  # noqa: BLE001 - releasing a dead device can fail; nothing to do about it
            pass
