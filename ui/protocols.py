"""What the station needs of the objects `ui/app.py` builds for it: the seams, as Protocols.

`kiosk.store.Store`, `kiosk.pipeline.Pipeline` and `sync.worker.SyncWorker` satisfy them; nothing in `ui/`
besides the composition root names those classes. The sync types are for the type checker only: the station runs
without the sync package (no server configured, or `requests` missing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.config import Settings
from kiosk.credentials.base import Credential
from kiosk.decode.base import DecodedCode
from kiosk.events import StoredEvent
from kiosk.pipeline import Evaluation, FrameReading, ScanResult
from kiosk.rules import Policy
from kiosk.sources.base import Frame

if TYPE_CHECKING:
    from sync.enroll import EnrollResult
    from sync.worker import SyncStatus


class EventReader(Protocol):
    """The store as the GUI thread reads it (the store's reader connections are safe from any thread)."""

    def occupancy(self) -> int: ...

    def inside(self) -> list[StoredEvent]: ...

    def today_counts(self, day_start: datetime) -> dict[str, int]: ...

    def search(self, text: str, limit: int = 50) -> list[StoredEvent]: ...


class ScanPipeline(Protocol):
    """The pipeline, called on the pipeline thread only (it writes the store)."""

    policy: Policy

    def read_frame(self, frame: Frame) -> FrameReading: ...

    def process_payload(
        self, data: bytes, now: datetime, source: str = "scanner", code: DecodedCode | None = None
    ) -> ScanResult: ...

    def evaluate(
        self, data: bytes, now: datetime, source: str = "scan", code: DecodedCode | None = None
    ) -> Evaluation: ...

    def commit(
        self, evaluation: Evaluation, flags: tuple[str, ...] = (), details: dict[str, Any] | None = None
    ) -> ScanResult: ...

    def record_assisted(
        self, credential: Credential, now: datetime, flags: tuple[str, ...] = (), details: dict[str, Any] | None = None
    ) -> ScanResult: ...

    def manual_checkout(self, person_key: str, now: datetime, source: str = "manual_checkout") -> ScanResult | None: ...

    def auto_checkout_if_due(self, now: datetime) -> list[ScanResult]: ...


class SyncWorkerHandle(Protocol):
    """The background sync thread (`sync.worker.SyncWorker`): started and stopped by the composition root."""

    def start(self) -> None: ...

    def stop(self, timeout: float | None = 10.0) -> None: ...

    def wake(self, force: bool = False) -> None: ...

    def status(self) -> SyncStatus: ...


@dataclass(frozen=True)
class SyncSetup:
    """A running sync worker when a server is configured; otherwise, maybe, a reader of the offline status."""

    worker: SyncWorkerHandle | None = None
    read_status: Callable[[], SyncStatus] | None = None


# settings -> how this station syncs (built by ui/app.py again after an enrolment gave the kiosk a token)
SyncFactory = Callable[[Settings], SyncSetup]
# (server URL, one-time code, config file path) -> the enrolment's result; network I/O, run off the GUI thread
Enroll = Callable[[str, str, str], "EnrollResult"]
# the config file's settings -> the same with the server's pulled configuration over them
ServerConfigReader = Callable[[Settings], Settings]
