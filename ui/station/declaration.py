"""The health declaration flow: one visitor at a time answers the questionnaire, then the caller records.

Two callers: a scan held back by the pipeline thread (policy "always", or the daily health update mode), whose
evaluation is committed only after the answers; and the guard's assisted entry (`ui/station/guard.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QTimer

from kiosk.pipeline import Evaluation
from kiosk.privacy import mask_name
from ui.main_window import MainWindow
from ui.pages.questionnaire import Answers
from ui.station.jobs import PipelineJobs
from ui.station.results import ScanResults
from ui.station.state import StationState


@dataclass(frozen=True)
class Declaration:
    """One open questionnaire: what to do with the answers, and what a cancel means."""

    on_answers: Callable[[Answers], None]
    on_cancel: Callable[[], None]


class DeclarationFlow:
    def __init__(
        self,
        state: StationState,
        window: MainWindow,
        results: ScanResults,
        jobs: PipelineJobs,
        clock: Callable[[], datetime],
    ) -> None:
        self._state = state
        self._window = window
        self._results = results
        self._jobs = jobs
        self._clock = clock
        self._open: Declaration | None = None
        # Nobody answering for this long: back to the door, nothing recorded (it must not block the entrance).
        self.timeout = QTimer()
        self.timeout.setSingleShot(True)
        self.timeout.timeout.connect(self.timed_out)
        window.questionnaire.touched.connect(self._restart_timeout)

    def ask(self, who: str, declaration: Declaration) -> None:
        """Show the questionnaire to `who` (a full name: shown masked)."""
        self._open = declaration
        self._window.questionnaire.start(with_temperature=self._state.health_mode, who=mask_name(who))
        self._window.show_page(self._window.questionnaire)
        self._restart_timeout()

    def _restart_timeout(self) -> None:
        if self._open is not None:
            self.timeout.start(int(self._state.settings.ui.questionnaire_timeout_seconds * 1000))

    def timed_out(self) -> None:
        """The idle door screen again; the scan or the assisted entry is dropped, nothing is written."""
        if self._open is None:
            return
        self._open = None
        self._window.show_page(self._window.station_page)
        self._results.back_to_idle()

    def ask_for_scan(self, evaluation: Evaluation) -> None:
        """A scanned entry waiting for its answers (policy "always" or daily health update)."""
        if self._open is not None:
            return  # one visitor at a time; the next one scans again
        declaration = Declaration(lambda answers: self._commit(evaluation, answers), self._scan_cancelled)
        self.ask(getattr(evaluation.parsed, "full_name", ""), declaration)

    def finished(self, answers: Answers) -> None:
        self.timeout.stop()
        declaration, self._open = self._open, None
        if declaration is not None:
            declaration.on_answers(answers)

    def cancelled(self) -> None:
        self.timeout.stop()
        declaration, self._open = self._open, None
        if declaration is not None:
            declaration.on_cancel()

    def _commit(self, evaluation: Evaluation, answers: Answers) -> None:
        self._window.show_page(self._window.station_page)
        details = dict(answers.details)
        self._jobs.run(
            lambda pipeline: pipeline.commit(evaluation, answers.flags, details),
            lambda result: self._results.show_result(result, answers.flags),
        )

    def _scan_cancelled(self) -> None:
        self._window.show_page(self._window.station_page)
        self._results.show_cancelled(self._clock())
