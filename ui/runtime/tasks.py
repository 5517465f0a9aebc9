"""The one way the station runs one-shot work off the GUI thread (modelled on Anki's `qt/aqt/taskman.py`).

`TaskRunner.run_in_background(fn, on_done, on_error)` runs `fn()` on an executor: by default a small thread pool
(enrolment, sync status reads), or the pipeline thread for anything that touches the pipeline or writes the store
(one writer for SQLite). The value, or the exception as a value, comes back through `on_done` / `on_error` on
the GUI thread: UI code never runs inside the background function.

Only an argument-less signal crosses threads: finished tasks wait in a locked list and the GUI thread drains it
(emitting PySide6 signals that carry our objects from a worker thread crashed the interpreter, see qt_compat).
A task whose executor ran it on the GUI thread itself (tests use an inline executor, as Picard's test conftest
does) calls back at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

from ui.runtime.qt_compat import emit

log = logging.getLogger(__name__)
T = TypeVar("T")


class Executor(Protocol):
    """Anything that runs a callable later on some thread: a thread pool, the pipeline thread, an inline fake."""

    def submit(self, fn: Callable[[], None], /) -> object: ...


def log_failure(error: Exception) -> None:
    """The default `on_error`: a failed task is logged, never raised on the GUI thread."""
    log.error("background task failed: %s", error, exc_info=error)


class TaskRunner(QObject):
    """Runs callables off the GUI thread and hands their results back on it."""

    _closures_pending = Signal()

    def __init__(self, executor: Executor | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool: ThreadPoolExecutor | None = None
        if executor is None:
            self._pool = executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qrc-task")
        self._executor: Executor = executor
        self._closures: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._closures_pending.connect(self._run_closures, Qt.ConnectionType.QueuedConnection)

    def run_in_background(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[Exception], None] = log_failure,
        executor: Executor | None = None,
    ) -> None:
        """Run `fn()` on `executor` (default: this runner's pool); then `on_done(value)` or `on_error(exception)`
        on the GUI thread."""

        def task() -> None:
            try:
                value = fn()
            except Exception as error:  # crosses to the GUI thread as a value, never as an exception
                failure = error  # `error` itself is unbound when the except block ends
                self.run_on_main(lambda: on_error(failure))
                return
            if on_done is not None:
                self.run_on_main(lambda: on_done(value))

        (executor or self._executor).submit(task)

    def run_on_main(self, closure: Callable[[], None]) -> None:
        """Run `closure` on the GUI thread: now if this is the GUI thread, else as soon as its event loop runs."""
        if threading.current_thread() is threading.main_thread():
            closure()
            return
        with self._lock:
            self._closures.append(closure)
        emit(self._closures_pending)

    def shutdown(self) -> None:
        """Let running tasks finish on their own; queued ones are dropped (the station is closing)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _run_closures(self) -> None:
        with self._lock:
            closures, self._closures = self._closures, []
        for closure in closures:
            closure()
