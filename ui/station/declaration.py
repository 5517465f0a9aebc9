"""The health declaration flow: one visitor at a time answers the questionnaire, then the caller records.

Two callers: a scan held back by the pipeline thread (policy "always", or the daily health update mode), whose
evaluation is committed only after the answers; and the guard's assisted entry (`ui/station/guard.py`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from time import monotonic

from PySide6.QtCore import QTimer

from kiosk.pipeline import Evaluation, ScanResult
from kiosk.privacy import mask_name
from ui.main_window import MainWindow
from ui.pages.questionnaire import Answers
from ui.station.jobs import PipelineJobs
from ui.station.results import ScanResults
from ui.station.state import StationState

QUEUE_LIMIT = 8  # more visitors than this waiting at one kiosk: they scan again
NEXT_VISITOR_DELAY_MS = 2500  # the verdict stays this long before the next visitor's questionnaire
COMMIT_WAIT_S = 10.0  # a commit whose answer never came back (a failed job) stops holding that person's reads


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
        self._open_key = ""  # whose questionnaire is open ("" : an assisted entry)
        # Whose answers are being recorded, and since when: a read of their card that the pipeline evaluated before
        # that entry was written would otherwise ask them a second time.
        self._committing: tuple[str, float] = ("", 0.0)
        # Scans that arrived while a questionnaire was open: asked in turn, never dropped (the next visitor's code
        # is often read while the first one is still answering).
        self.queue: deque[Evaluation] = deque(maxlen=QUEUE_LIMIT)
        self.next_delay_ms = NEXT_VISITOR_DELAY_MS
        # The timers are the window's children: they die with it, so a questionnaire timing out after the station
        # was closed cannot touch its deleted pages.
        self._next = QTimer(window)
        self._next.setSingleShot(True)
        self._next.timeout.connect(self._ask_next)
        # Nobody answering for this long: back to the door, nothing recorded (it must not block the entrance).
        self.timeout = QTimer(window)
        self.timeout.setSingleShot(True)
        self.timeout.timeout.connect(self.timed_out)
        window.questionnaire.touched.connect(self._restart_timeout)

    def stop(self) -> None:
        """The station is stopping: no next visitor is asked and no questionnaire times out any more."""
        self._next.stop()
        self.timeout.stop()

    def ask(self, who: str, declaration: Declaration) -> None:
        """Show the questionnaire to `who` (a full name: shown masked)."""
        self._open = declaration
        self._results.back_to_idle()  # an earlier verdict must not cover this visitor's questions
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
        self._after_close()

    def ask_for_scan(self, evaluation: Evaluation) -> None:
        """A scanned entry waiting for its answers (policy "always" or daily health update); queued while
        another visitor is answering (one place per person: the same card read again is not queued twice)."""
        key = _person_key(evaluation)
        if self._is_being_committed(key):
            return
        if self._open is not None or self._next.isActive():
            if key != self._open_key and all(_person_key(e) != key for e in self.queue):
                self.queue.append(evaluation)
            self._window.questionnaire.set_waiting(len(self.queue))
            return
        declaration = Declaration(lambda answers: self._commit(evaluation, answers), self._scan_cancelled)
        self.ask(getattr(evaluation.parsed, "full_name", ""), declaration)
        self._open_key = key

    def _is_being_committed(self, key: str) -> bool:
        committing, since = self._committing
        return bool(key) and key == committing and monotonic() - since < COMMIT_WAIT_S

    def _after_close(self) -> None:
        self._open_key = ""
        if self.queue:
            self._next.start(self.next_delay_ms)

    def _ask_next(self) -> None:
        if self._open is None and self.queue:
            self.ask_for_scan(self.queue.popleft())
            self._window.questionnaire.set_waiting(len(self.queue))

    def finished(self, answers: Answers) -> None:
        self.timeout.stop()
        declaration, self._open = self._open, None
        if declaration is not None:
            declaration.on_answers(answers)
        self._after_close()

    def cancelled(self) -> None:
        self.timeout.stop()
        declaration, self._open = self._open, None
        if declaration is not None:
            declaration.on_cancel()
        self._after_close()

    def refused(self, answers: Answers) -> bool:
        """The venue's symptom policy for these answers: "refuse" shows the red screen and records nothing, the
        same answer a personal QR whose declaration reports symptoms gets; "alert" records the entry flagged."""
        if "symptoms" not in answers.flags or self._state.settings.station.symptom_policy == "alert":
            return False
        self._results.show_message("rejected", "symptoms", self._clock())
        return True

    def _commit(self, evaluation: Evaluation, answers: Answers) -> None:
        self._window.show_page(self._window.station_page)
        if self.refused(answers):
            return
        details = dict(answers.details)
        self._committing = (_person_key(evaluation), monotonic())

        def committed(result: ScanResult) -> None:
            self._committing = ("", 0.0)
            self._results.show_result(result, answers.flags)

        self._jobs.run(lambda pipeline: pipeline.commit(evaluation, answers.flags, details), committed)

    def _scan_cancelled(self) -> None:
        self._window.show_page(self._window.station_page)
        self._results.show_cancelled(self._clock())


def _person_key(evaluation: Evaluation) -> str:
    return str(getattr(evaluation.parsed, "person_key", "") or "")
