"""The camera loop: reads a frame source on its own thread, hands every frame to the pipeline thread through a
one-frame slot (stale frames are dropped, never queued) and sends a small preview image to the screen at preview
rate. File sources are paced at their own frame rate so that they stand in for a camera.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QImage

from kiosk.decode.motion import MotionGate
from kiosk.sources.base import Frame, FrameSource, SourceError, SourceState
from kiosk.sources.slot import LatestFrameSlot
from ui.runtime.qt_compat import emit

PREVIEW_MAX_SIZE = (960, 540)  # enough for a 1920×1080 screen's preview area; cheaper to paint than 1280×720
IDLE_SLEEP_S = 0.02
OPEN_RETRY_INITIAL_S, OPEN_RETRY_MAX_S = 1.0, 30.0  # a source that fails at start-up is tried again this often


@dataclass(frozen=True)
class PreviewFrame:
    """What the screen needs of a frame: a small image and the scale back to frame pixels."""

    image: QImage  # a view of `pixels`, which this frame keeps alive (no copy)
    pixels: np.ndarray
    index: int
    scale: float  # preview pixels per frame pixel
    read_at: float  # time.monotonic() when the camera delivered it


def preview_size(width: int, height: int) -> tuple[int, int]:
    """The preview size for a preview area of `width` × `height` (not smaller than a thumbnail before the window
    is laid out)."""
    return max(320, width), max(180, height)


def to_preview(frame: Frame, max_size: tuple[int, int] = PREVIEW_MAX_SIZE) -> PreviewFrame:
    """A QImage of the frame that fits the preview area, in the screen's own 32-bit format: the GUI thread then
    paints it 1:1 with a plain copy (a BGR888 image, or one of another size, is converted or scaled on every
    paint, in the GUI thread). Resizing and converting here costs one pass over the small image."""
    image = frame.image
    height, width = image.shape[:2]
    scale = min(1.0, max_size[0] / width, max_size[1] / height)
    if scale < 1.0:  # bilinear: a quarter of INTER_AREA's cost, and the preview only has to look right
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    # B, G, R, 255 in memory: QImage's RGB32 on a little-endian machine.
    pixels = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    qimage = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], QImage.Format.Format_RGB32)
    return PreviewFrame(qimage, pixels, frame.index, scale, time.monotonic())


class CameraThread(QThread):
    """Reads a frame source; file sources are paced at their own speed so they stand in for a camera."""

    preview = Signal(object)  # PreviewFrame
    state_changed = Signal(str)  # SourceState value, or "error: ..." when the source cannot be opened

    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        slot: LatestFrameSlot[Frame],
        preview_fps: float = 15.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("qrc-camera")  # the OS thread name: per-thread CPU in top -H and the benchmark
        self._open_source = open_source
        self._slot = slot
        self._preview_interval = 1.0 / preview_fps if preview_fps > 0 else 0.0
        self._stop = threading.Event()
        self.preview_size = PREVIEW_MAX_SIZE  # set by the GUI to the preview area's size (no wasted pixels)
        self.retry_initial_s, self.retry_max_s = OPEN_RETRY_INITIAL_S, OPEN_RETRY_MAX_S
        self.open_attempts = 0  # failed opens so far (tests, and the status line)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        source = self._open_with_retries()
        if source is None:
            return  # stopped while the camera was still away
        try:
            self._loop(source)
        finally:
            source.close()

    def _open_with_retries(self) -> FrameSource | None:
        """Open the source, retrying with a growing pause (1 s doubling up to 30 s) for as long as it fails: a
        webcam enumerated late at boot must not leave the station dead until a restart. Every failure is a
        state ("error: ..."), so the screen says the camera is not working while it is away."""
        delay = self.retry_initial_s
        while not self._stop.is_set():
            try:
                return self._open_source()
            except SourceError as error:
                self.open_attempts += 1
                emit(self.state_changed, f"error: {error}")
            self._stop.wait(delay)
            delay = min(delay * 2, self.retry_max_s)
        return None

    def _loop(self, source: FrameSource) -> None:
        state: str | None = None
        started = time.monotonic()
        last_preview = 0.0
        # A live doorway that did not change is not converted and repainted again (at least once a second it
        # is): most of the day the picture on screen would be the same pixels. Files play every frame.
        unchanged = None if source.is_file else MotionGate(settle_frames=1, refresh_s=1.0)
        while not self._stop.is_set():
            frame = source.read()
            if source.state.value != state:
                state = source.state.value
                emit(self.state_changed, state)
            if frame is None:
                if source.state is SourceState.ENDED:
                    return
                self._stop.wait(IDLE_SLEEP_S)
                continue
            if source.is_file:  # play a recording at its own pace, as a camera would deliver it
                self._stop.wait(max(0.0, started + frame.position - time.monotonic()))
            read_at = time.monotonic()
            self._slot.put(frame)
            if read_at - last_preview >= self._preview_interval * 0.75:  # tolerate camera jitter
                if unchanged is not None and not unchanged.check(frame.image, read_at).decode:
                    continue
                last_preview = read_at
                emit(self.preview, to_preview(frame, self.preview_size))
