"""Jobs for the pipeline thread (the store's one writer), through the one task runner."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from ui.protocols import ScanPipeline
from ui.runtime.pipeline_thread import PipelineThread
from ui.runtime.tasks import TaskRunner

log = logging.getLogger("qr_checkpoint.station")
T = TypeVar("T")


def _request_failed(error: Exception) -> None:
    log.error("station request failed: %s", error, exc_info=error)


class PipelineJobs:
    """`run(job, on_done)`: `job(pipeline)` on the pipeline thread, `on_done(value)` back on the GUI thread."""

    def __init__(self, tasks: TaskRunner, thread: PipelineThread) -> None:
        self._tasks = tasks
        self._thread = thread

    def run(self, job: Callable[[ScanPipeline], T], on_done: Callable[[T], None] | None = None) -> None:
        pipeline = self._thread.pipeline
        self._tasks.run_in_background(lambda: job(pipeline), on_done, _request_failed, executor=self._thread)
