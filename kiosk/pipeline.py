"""The one pipeline from a frame (or typed scanner input) to a durable, decided record.

The Qt station, `kiosk scan`, the tests and the benchmarks all feed this; none of them decides anything itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kiosk.config import Settings
from kiosk.credentials.base import Credential, ParseContext, ParseResult, Rejection, TrustMaterial
from kiosk.credentials.registry import parse_payload
from kiosk.decode.base import DecodedCode
from kiosk.events import Direction, NewEvent, StoredEvent
from kiosk.rules import Decision, Mode, Outcome, Policy, decide, last_closing
from kiosk.sources.base import Frame
from kiosk.store import Store, StoreError

log = logging.getLogger(__name__)

AUTO_CHECKOUT_STATE_KEY = "auto_checkout_done_at"


@dataclass(frozen=True)
class Evaluation:
    """A decided presentation not yet recorded (the station may ask the questionnaire before committing)."""

    parsed: ParseResult
    decision: Decision
    time: datetime
    source: str
    code: DecodedCode | None = None


@dataclass(frozen=True)
class ScanResult:
    decision: Decision
    credential: Credential | None
    rejection: Rejection | None
    event: StoredEvent | None  # the record written, None when nothing was recorded
    time: datetime
    code: DecodedCode | None = None  # where the code was in the frame (None for typed input)
    source: str = "scan"

    @property
    def outcome(self) -> Outcome:
        return self.decision.outcome

    @property
    def id_number(self) -> str:
        if self.credential is not None:
            return self.credential.id_number
        return self.rejection.id_number if self.rejection is not None else ""


@dataclass(frozen=True)
class FrameReading:
    """What one frame showed: every code read in it (for the outline) and those that just became presentations."""

    codes: list[DecodedCode]
    presented: list[DecodedCode]


@dataclass
class Pipeline:
    store: Store
    policy: Policy
    decoder: Any = None  # kiosk.decode.chain.DecoderChain: decode(bgr) -> list[DecodedCode]
    stabilizer: Any = None  # kiosk.stabilize.Stabilizer: update(codes, position) -> list[DecodedCode]
    gate: Any = None  # kiosk.decode.motion.MotionGate: check(image, position) -> GateVerdict; None: decode all
    trust: Callable[[], TrustMaterial] = TrustMaterial
    formats: Any = None  # None: every registered format
    monotonic_ns: Callable[[], int] = time.monotonic_ns
    _auto_checkout_done: datetime | None = field(default=None, init=False)  # the last closing handled
    _auto_checkout_loaded: bool = field(default=False, init=False)
    _last_codes: list[DecodedCode] = field(default_factory=list, init=False)  # what the last decoded frame showed

    def process_frame(self, frame: Frame, now: datetime) -> list[ScanResult]:
        """Decode one frame; every code that has just become a steady presentation is decided and recorded."""
        return [
            self.process_payload(code.data, now, source="scan", code=code) for code in self.read_frame(frame).presented
        ]

    def read_frame(self, frame: Frame) -> FrameReading:
        """Decode and stabilise one frame, deciding nothing (the station evaluates before asking questions).

        With a motion gate, a frame that did not change since the last decoded one is not decoded again: it
        shows what that frame showed, so a code held still keeps its place in the stabiliser."""
        if self.gate is None:
            codes = self.decoder.decode(frame.image)
        else:
            verdict = self.gate.check(frame.image, frame.position)
            if verdict.decode and (verdict.entered or not getattr(self.decoder, "takes_blind", False)):
                self._last_codes = self.decoder.decode(frame.image)
            elif verdict.decode:  # nothing entered the empty scene: no blind fallbacks
                self._last_codes = self.decoder.decode(frame.image, blind=False)
            codes = list(self._last_codes)
        presented = self.stabilizer.update(codes, frame.position) if self.stabilizer else codes
        return FrameReading(codes, presented)

    def process_payload(
        self, data: bytes, now: datetime, source: str = "scanner", code: DecodedCode | None = None
    ) -> ScanResult:
        return self.commit(self.evaluate(data, now, source, code))

    def evaluate(self, data: bytes, now: datetime, source: str = "scan", code: DecodedCode | None = None) -> Evaluation:
        """Parse and decide, without writing anything."""
        context = ParseContext(now=now, trust=self.trust())
        parsed = parse_payload(data, context, formats=self.formats, accept_opaque=self.policy.accept_unknown)
        return self._evaluate_parsed(parsed, now, source, code)

    def commit(
        self, evaluation: Evaluation, flags: tuple[str, ...] = (), details: dict[str, Any] | None = None
    ) -> ScanResult:
        """Write the evaluated decision's record (when it has one); durable before this returns."""
        parsed, decision = evaluation.parsed, evaluation.decision
        credential = parsed if isinstance(parsed, Credential) else None
        event = None
        if decision.records and credential is not None:
            try:
                event = self.store.record(self._new_event(credential, decision, evaluation, flags, details))
            except StoreError as error:
                log.error("could not record an event: %s", error)
                decision = Decision(
                    Outcome.REJECTED,
                    reason_code="store_error",
                    reason="Could not save the record: please call the staff",
                )
        rejection = parsed if isinstance(parsed, Rejection) else None
        return ScanResult(decision, credential, rejection, event, evaluation.time, evaluation.code, evaluation.source)

    def record_assisted(
        self, credential: Credential, now: datetime, flags: tuple[str, ...] = (), details: dict[str, Any] | None = None
    ) -> ScanResult:
        """An entry the guard typed in for a visitor without a QR code (cooldown and capacity still apply)."""
        evaluation = self._evaluate_parsed(credential, now, "assisted", None, force=Direction.ENTRY)
        return self.commit(evaluation, flags, details)

    def manual_checkout(self, person_key: str, now: datetime, source: str = "manual_checkout") -> ScanResult | None:
        """Record the exit of someone inside (guard's button, closing time); None when they are not inside."""
        last = self.store.last_event(person_key)
        if last is None or last.direction != Direction.ENTRY:
            return None
        credential = Credential(
            kind=last.credential,
            id_number=last.id_number,
            full_name=last.full_name,
            date_of_birth=last.date_of_birth,
            key=last.person_key,
        )
        evaluation = Evaluation(credential, Decision(Outcome.EXIT, Direction.EXIT), now, source)
        return self.commit(evaluation)

    def auto_checkout_if_due(self, now: datetime) -> list[ScanResult]:
        """Check out, at the closing time, everyone who entered before it; once per closing, caught up late."""
        closing = last_closing(self.policy, now)
        if closing is None:
            return []
        if not self._auto_checkout_loaded:
            done = self.store.get_state(AUTO_CHECKOUT_STATE_KEY)
            self._auto_checkout_done = _parse_moment(done)
            self._auto_checkout_loaded = True
        if self._auto_checkout_done is not None and self._auto_checkout_done >= closing:
            return []
        results = [
            self.manual_checkout(event.person_key, closing, source="auto_checkout")
            for event in self.store.inside()
            if event.wall_time < closing
        ]
        self.store.set_state(AUTO_CHECKOUT_STATE_KEY, closing.isoformat())
        self._auto_checkout_done = closing
        return [result for result in results if result is not None]

    def _evaluate_parsed(
        self, parsed: ParseResult, now: datetime, source: str, code: DecodedCode | None, force: Direction | None = None
    ) -> Evaluation:
        last = self.store.last_event(parsed.person_key) if isinstance(parsed, Credential) else None
        policy = self.policy
        if force is not None:  # the guard chose the direction and vouches for the identity
            policy = replace(policy, mode=Mode(force.value), accepted=policy.accepted | {parsed.kind})
        decision = decide(parsed, last, policy, self.store.occupancy(), now)
        return Evaluation(parsed, decision, now, source, code)

    def _new_event(
        self,
        credential: Credential,
        decision: Decision,
        evaluation: Evaluation,
        flags: tuple[str, ...],
        details: dict[str, Any] | None,
    ) -> NewEvent:
        assert decision.direction is not None
        return NewEvent(
            direction=decision.direction,
            credential=credential.kind,
            person_key=credential.person_key,
            id_number=credential.id_number,
            full_name=credential.full_name,
            date_of_birth=credential.date_of_birth,
            wall_time=evaluation.time,
            monotonic_ns=self.monotonic_ns(),
            source=evaluation.source,
            flags=tuple(dict.fromkeys((*decision.warnings, *flags))),
            details=details or {},
        )


def build_pipeline(settings: Settings, store: Store, trust: Callable[[], TrustMaterial] | None = None) -> Pipeline:
    """The pipeline as the settings describe it (decoder engines, stabiliser, policy)."""
    from kiosk.decode import make_chain
    from kiosk.decode.motion import MotionGate
    from kiosk.stabilize import Stabilizer

    return Pipeline(
        store=store,
        policy=Policy.from_settings(settings.station),
        decoder=make_chain(list(settings.camera.engines), settings.camera.budget_ms),
        stabilizer=Stabilizer(min_frames=settings.camera.stable_frames),
        gate=MotionGate(),
        trust=trust or TrustMaterial,
    )


def _parse_moment(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:  # a value from an older version: as if never done
        return None
