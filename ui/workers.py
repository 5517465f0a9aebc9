"""The station's two worker threads: the camera loop and the pipeline (decode, decide, record).

The camera thread reads frames as they come, hands the newest to the pipeline thread through a one-frame slot
(stale frames are dropped, never queued) and sends a small preview image to the screen at preview rate. The
pipeline thread decodes only the newest frame, so a slow decoder makes scans a little slower but never makes the
preview lag. It is also the only thread that writes to the store (scanner input, assisted entries, check-outs
arrive as requests). Results cross to the GUI thread as values through queued signals.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QImage

from kiosk.decode.base import DecodedCode
from kiosk.decode.motion import MotionGate
from kiosk.sources.base import Frame, FrameSource, SourceError, SourceState
from kiosk.sources.slot import LatestFrameSlot
from ui.qt_compat import emit

log = logging.getLogger(__name__)

PREVIEW_MAX_WIDTH = 960  # enough for a 1920×1080 screen's preview area; cheaper to paint than 1280×720
IDLE_SLEEP_S = 0.02


@dataclass(frozen=True)
class PreviewFrame:
    """What the screen needs of a frame: a small image and the scale back to frame pixels."""

    image: QImage
    index: int
    scale: float  # preview pixels per frame pixel
    read_at: float  # time.monotonic() when the camera delivered it


@dataclass(frozen=True)
class FrameCodes:
    """The codes found in one frame (for the outline), whether or not they became a presentation."""

    index: int
    codes: tuple[DecodedCode, ...]
    read_at: float


def to_preview(frame: Frame, max_width: int = PREVIEW_MAX_WIDTH) -> PreviewFrame:
    """A QImage of the frame no wider than the preview area (BGR888 needs no colour conversion)."""
    image = frame.image
    height, width = image.shape[:2]
    scale = min(1.0, max_width / width)
    if scale < 1.0:  # bilinear: a quarter of INTER_AREA's cost, and the preview only has to look right
        image = cv2.resize(image, (int(width * scale), int(height * scale)), interpolation=cv2.INTER_LINEAR)
    image = np.ascontiguousarray(image)
    qimage = QImage(image.data, image.shape[1], image.shape[0], image.strides[0], QImage.Format.Format_BGR888)
    return PreviewFrame(qimage.copy(), frame.index, scale, time.monotonic())


class CameraThread(QThread):
    """Reads a frame source; file sources are paced at their own speed so they stand in for a camera."""

    preview = Signal(object)  # PreviewFrame
    state_changed = Signal(str)  # SourceState value, or "error: ..." when the source cannot be opened

    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        slot: LatestFrameSlot[Frame],
        preview_fps: float = 15.0,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("qrc-camera")  # the OS thread name: per-thread CPU in top -H and the benchmark
        self._open_source = open_source
        self._slot = slot
        self._preview_interval = 1.0 / preview_fps if preview_fps > 0 else 0.0
        self._stop = threading.Event()
        self.preview_width = PREVIEW_MAX_WIDTH  # set by the GUI to the preview area's width (no wasted pixels)
        self.read_times: dict[int, float] = {}  # frame index -> monotonic read time (latency measurements)
        self.keep_read_times = False

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        try:
            source = self._open_source()
        except SourceError as error:
            emit(self.state_changed, f"error: {error}")
            return
        try:
            self._loop(source)
        finally:
            source.close()

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
            if self.keep_read_times:
                self.read_times[frame.index] = read_at
            self._slot.put(frame)
            if read_at - last_preview >= self._preview_interval * 0.75:  # tolerate camera jitter
                if unchanged is not None and not unchanged.check(frame.image, read_at).decode:
                    continue
                last_preview = read_at
                emit(self.preview, to_preview(frame, self.preview_width))


class Mailbox(QObject):
    """Carries the pipeline thread's values to the GUI thread.

    Values wait in a plain queue and only an argument-less `wake` crosses threads; the GUI thread then emits the
    typed signals itself. (Emitting PySide6 signals that carry our result objects straight from the worker
    thread crashed the interpreter at exit, a reference-count error inside the binding.)"""

    result = Signal(object)  # kiosk.pipeline.ScanResult
    evaluation = Signal(object)  # kiosk.pipeline.Evaluation held back for the questionnaire
    codes_seen = Signal(object)  # FrameCodes
    reply = Signal(int, object)  # request id, return value (or an Exception as a value)
    wake = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.wake.connect(self.drain, Qt.ConnectionType.QueuedConnection)

    def post(self, kind: str, value: Any) -> None:
        """From any thread."""
        self._queue.put((kind, value))
        emit(self.wake)

    def drain(self) -> None:
        """On the GUI thread: deliver everything posted so far, in order."""
        while True:
            try:
                kind, value = self._queue.get_nowait()
            except queue.Empty:
                return
            if kind == "reply":
                emit(self.reply, *value)
            else:
                emit(getattr(self, kind), value)


class PipelineThread(QThread):
    """Runs the pipeline on the newest frame, and the GUI's requests (scanner input, assisted entry, ...)."""

    def __init__(
        self,
        pipeline: Any,
        slot: LatestFrameSlot[Frame],
        clock: Callable[[], datetime] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("qrc-pipeline")
        self.mailbox = Mailbox()
        self.result, self.evaluation = self.mailbox.result, self.mailbox.evaluation
        self.codes_seen, self.reply = self.mailbox.codes_seen, self.mailbox.reply
        self.pipeline = pipeline
        self._slot = slot
        self._clock = clock or (lambda: datetime.now(UTC))
        self._requests: queue.SimpleQueue[tuple[int, Callable[[Any], Any]]] = queue.SimpleQueue()
        self._next_id = 0
        self._id_lock = threading.Lock()
        self._stop = threading.Event()
        self.frames_decoded = 0
        # Outcomes ("entry", "exit") to hold back unrecorded until the questionnaire is answered; read each scan.
        self.defer: Callable[[], frozenset[str]] = frozenset

    def stop(self) -> None:
        self._stop.set()

    def submit(self, job: Callable[[Any], Any]) -> int:
        """Run `job(pipeline)` on this thread; its value arrives as `reply(id, value)`. Returns the id."""
        with self._id_lock:
            self._next_id += 1
            request_id = self._next_id
        self._requests.put((request_id, job))
        return request_id

    def run(self) -> None:
        while not self._stop.is_set():
            self._run_requests()
            frame = self._slot.get(timeout=IDLE_SLEEP_S)
            if frame is not None:
                self._process(frame)
        self._run_requests()

    def _run_requests(self) -> None:
        while True:
            try:
                request_id, job = self._requests.get_nowait()
            except queue.Empty:
                return
            try:
                value = job(self.pipeline)
            except Exception as error:  # crosses to the GUI as a value, never as an exception
                log.exception("station request failed")
                value = error
            self.mailbox.post("reply", (request_id, value))

    def handle_payload(self, data: bytes, source: str, code: DecodedCode | None = None) -> Any:
        """Decide one payload (on this thread): a recorded ScanResult, or an Evaluation held for the questionnaire."""
        now = self._clock()
        deferred = self.defer()
        if not deferred:
            return self.pipeline.process_payload(data, now, source=source, code=code)
        evaluation = self.pipeline.evaluate(data, now, source, code)
        if evaluation.decision.records and evaluation.decision.outcome.value in deferred:
            return evaluation
        return self.pipeline.commit(evaluation)

    def _process(self, frame: Frame) -> None:
        try:
            reading = self.pipeline.read_frame(frame)
            values = [self.handle_payload(code.data, "scan", code) for code in reading.presented]
        except Exception:
            log.exception("could not process a frame")
            return
        self.frames_decoded += 1
        self.mailbox.post("codes_seen", FrameCodes(frame.index, tuple(reading.codes), time.monotonic()))
        for value in values:
            self.mailbox.post("result" if hasattr(value, "event") else "evaluation", value)
