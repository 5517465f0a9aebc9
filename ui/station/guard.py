"""The guard's actions: the panel, manual check-out, and assisted entry (questionnaire first unless "never")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kiosk.credentials.base import Credential
from kiosk.events import Direction
from kiosk.pipeline import Evaluation, ScanResult
from kiosk.privacy import mask_name
from kiosk.rules import Decision, Outcome
from ui.main_window import MainWindow
from ui.pages.questionnaire import Answers
from ui.station.declaration import Declaration, DeclarationFlow
from ui.station.jobs import PipelineJobs
from ui.station.results import ScanResults
from ui.station.state import StationState

UNDO_SECONDS = 10.0  # how long a manual check-out can be undone
UNDO_SOURCE = "undo_checkout"  # the correcting entry's source, also its flag


class GuardActions:
    def __init__(
        self,
        state: StationState,
        window: MainWindow,
        results: ScanResults,
        declarations: DeclarationFlow,
        jobs: PipelineJobs,
        clock: Callable[[], datetime],
    ) -> None:
        self._state = state
        self._window = window
        self._results = results
        self._declarations = declarations
        self._jobs = jobs
        self._clock = clock
        self.undo_seconds = UNDO_SECONDS
        self._in_flight: set[str] = set()  # check-outs on their way to the pipeline thread
        self._undoable: dict[str, Credential] = {}  # person key -> who was checked out, for the undo

    def open_panel(self) -> None:
        self._window.guard_panel.refresh()
        self._window.show_page(self._window.guard_panel)

    def assisted_entry(self, form: dict[str, str]) -> None:
        """A visitor without a QR code, typed in by the guard: name, phone, ID number."""
        credential = Credential(
            kind="manual",
            id_number=form["id_number"],
            full_name=form["full_name"],
            fields={"phone": form.get("phone", "")},
        )
        details: dict[str, Any] = {"phone": form["phone"]} if form.get("phone") else {}
        if self._state.settings.station.questionnaire == "never":
            self._record(credential, (), details)
            return
        declaration = Declaration(lambda answers: self._answered(credential, answers, details), self._back_to_panel)
        self._declarations.ask(form["full_name"], declaration)

    def _answered(self, credential: Credential, answers: Answers, details: dict[str, Any]) -> None:
        self._window.show_page(self._window.guard_panel)
        if self._declarations.refused(answers):
            return
        self._record(credential, answers.flags, {**details, **answers.details})

    def _record(self, credential: Credential, flags: tuple[str, ...], details: dict[str, Any]) -> None:
        now = self._clock()
        self._jobs.run(
            lambda pipeline: pipeline.record_assisted(credential, now, flags, details),
            lambda result: self._assisted_done(result, flags),
        )

    def _assisted_done(self, result: ScanResult, flags: tuple[str, ...]) -> None:
        self._window.guard_panel.assisted.clear()
        self._results.show_result(result, flags)
        self._window.guard_panel.refresh()

    def _back_to_panel(self) -> None:
        self._window.show_page(self._window.guard_panel)

    def manual_checkout(self, person_key: str) -> None:
        """The exit of the person the guard confirmed (by key, never by row); one at a time per person."""
        if person_key in self._in_flight:
            return
        self._in_flight.add(person_key)
        now = self._clock()
        self._jobs.run(
            lambda pipeline: pipeline.manual_checkout(person_key, now), lambda r: self._checked_out(person_key, r)
        )

    def _checked_out(self, person_key: str, result: ScanResult | None) -> None:
        self._in_flight.discard(person_key)
        panel = self._window.guard_panel
        if result is not None and result.credential is not None:
            self._undoable[person_key] = result.credential
            self._results.show_result(result)
            panel.checked_out(person_key, mask_name(result.credential.full_name), self.undo_seconds)
        panel.refresh()

    def undo_checkout(self, person_key: str) -> None:
        """A correcting entry (events are immutable: no UPDATE), flagged so the venue sees it was corrected."""
        credential = self._undoable.pop(person_key, None)
        panel = self._window.guard_panel
        if credential is None:
            return
        if any(event.person_key == person_key for event in panel.store.inside()):
            panel.refresh()  # back in already (scanned again within the 10 s): a second entry would be wrong
            return
        now = self._clock()
        evaluation = Evaluation(credential, Decision(Outcome.ENTRY, Direction.ENTRY), now, UNDO_SOURCE)
        self._jobs.run(lambda pipeline: pipeline.commit(evaluation, (UNDO_SOURCE,)), self._undone)

    def _undone(self, result: ScanResult) -> None:
        panel = self._window.guard_panel
        if result.credential is not None and result.event is not None:
            panel.action_bar.undone(mask_name(result.credential.full_name))
        panel.refresh()
