"""The guard's actions: the panel, manual check-out, and assisted entry (questionnaire first unless "never")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kiosk.credentials.base import Credential
from kiosk.pipeline import ScanResult
from ui.main_window import MainWindow
from ui.pages.questionnaire import Answers
from ui.station.declaration import Declaration, DeclarationFlow
from ui.station.jobs import PipelineJobs
from ui.station.results import ScanResults
from ui.station.state import StationState


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
        now = self._clock()
        self._jobs.run(lambda pipeline: pipeline.manual_checkout(person_key, now), self._checked_out)

    def _checked_out(self, result: ScanResult | None) -> None:
        if result is not None:
            self._results.show_result(result)
        self._window.guard_panel.refresh()
