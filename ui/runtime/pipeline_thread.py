"""The pipeline thread: decodes the newest frame, decides and records; the only thread that writes the store.

It decodes only the newest frame of the one-frame slot the camera thread fills, so a slow decoder makes scans a
little slower but never makes the preview lag. Jobs from the GUI (scanner input, assisted entries, check-outs,
a new policy) arrive through `submit()`, the pipeline thread's side of `ui.runtime.tasks.TaskRunner`, and run
between two frames. What the camera loop finds crosses to the GUI thread as values through `Mailbox`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Qt, QThread, Signal

from kiosk.decode.base import DecodedCode
from kiosk.pipeline import Evaluation, ScanResult
from kiosk.sources.base import Frame
from kiosk.sources.slot import LatestFrameSlot
from ui.protocols import ScanPipeline
from ui.runtime.qt_compat import emit

log = logging.getLogger(__name__)

IDLE_SLEEP_S = 0.02


@dataclass(frozen=True)
class FrameCodes:
    """The codes found in one frame (for the outline), whether or not they became a presentation."""

    index: int
    codes: tuple[DecodedCode, ...]
    read_at: float


class Mailbox(QObject):
    """Carries the pipeline thread's findings to the GUI thread.

    Values wait in a plain queue and only an argument-less `wake` crosses threads; the GUI thread then emits the
    typed signals itself. (Emitting PySide6 signals that carry our result objects straight from the worker
    thread crashed the interpreter at exit, a reference-count error inside the binding.)"""

    result = Signal(object)  # kiosk.pipeline.ScanResult
    evaluation = Signal(object)  # kiosk.pipeline.Evaluation held back for the questionnaire
    codes_seen = Signal(object)  # FrameCodes
    wake = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.SimpleQueue[ScanResult | Evaluation | FrameCodes] = queue.SimpleQueue()
        self.wake.connect(self.drain, Qt.ConnectionType.QueuedConnection)

    def post(self, value: ScanResult | Evaluation | FrameCodes) -> None:
        """From any thread."""
        self._queue.put(value)
        emit(self.wake)

    def drain(self) -> None:
        """On the GUI thread: deliver everything posted so far, in order."""
        while True:
            try:
                value = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(value, ScanResult):
                emit(self.result, value)
            elif isinstance(value, Evaluation):
                emit(self.evaluation, value)
            else:
                emit(self.codes_seen, value)


class PipelineThread(QThread):
    """Runs the pipeline on the newest frame, and the GUI's jobs (scanner input, assisted entry, ...)."""

    def __init__(
        self,
        pipeline: ScanPipeline,
        slot: LatestFrameSlot[Frame],
        clock: Callable[[], datetime] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("qrc-pipeline")
        self.mailbox = Mailbox()
        self.result, self.evaluation = self.mailbox.result, self.mailbox.evaluation
        self.codes_seen = self.mailbox.codes_seen
        self.pipeline = pipeline
        self._slot = slot
        self._clock = clock or (lambda: datetime.now(UTC))
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self.frames_decoded = 0
        # Outcomes ("entry", "exit") to hold back unrecorded until the questionnaire is answered; read each scan.
        self.defer: Callable[[], frozenset[str]] = frozenset

    def stop(self) -> None:
        self._stop.set()

    def submit(self, fn: Callable[[], None], /) -> None:
        """Run `fn()` on this thread before the next frame (an `ui.runtime.tasks.Executor`)."""
        self._jobs.put(fn)

    def run(self) -> None:
        while not self._stop.is_set():
            self._run_jobs()
            frame = self._slot.get(timeout=IDLE_SLEEP_S)
            if frame is not None:
                self._process(frame)
        self._run_jobs()

    def _run_jobs(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            try:
                job()
            except Exception:  # TaskRunner's jobs catch their own errors; anything else must not end the thread
                log.exception("station job failed")

    def handle_payload(self, data: bytes, source: str, code: DecodedCode | None = None) -> ScanResult | Evaluation:
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
        self.mailbox.post(FrameCodes(frame.index, tuple(reading.codes), time.monotonic()))
        for value in values:
            self.mailbox.post(value)
