"""The outbox pusher: pending events -> the central server, exactly once in effect, whatever fails in between.

The outbox is a three-state machine kept by the store (pending -> sent -> acknowledged, as persist-queue's
acknowledgement queue). Each exchange claims a batch (pending -> sent, a short transaction: a scan never waits
on the network), posts it, and acknowledges each event the server answered for. Anything that goes wrong
releases the batch (sent -> pending) so it is sent again; a crash in between leaves rows "sent", and
`release_unacknowledged()` at start-up puts them back. Resending is harmless: the server ingests by event UUID
and answers "duplicate" for one it already has.

`SyncClient` does the exchanges synchronously (tests, `kiosk sync --once`); `sync.worker.SyncWorker` runs one
in a thread.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from kiosk.events import StoredEvent
from sync import clock, protocol
from sync.protocol_status import KioskStatus, software_version
from sync.pull import RESOURCES, PullResult, fetched_at, pull_all
from sync.transport import DEFAULT_TIMEOUT, Exchange, SyncError, Timeout, Transport, http_error, one_line, utc_now

log = logging.getLogger(__name__)

ACKNOWLEDGING = protocol.EVENT_STATUSES  # every answer is final; only silence resends
MIN_BATCH = 10
CLOCK_SAVE_INTERVAL_S = 5.0
STATUS_INTERVAL_S = 5.0  # a drain's batches carry the kiosk's status at most this often
LAST_REFUSAL_KEY = "sync.last_refusal"  # the server's reason for the latest refused event (no personal data)


class OutboxStore(Protocol):
    """The part of `kiosk.store.Store` the sync client uses."""

    def claim_pending(self, limit: int) -> list[StoredEvent]: ...

    def acknowledge(self, uuids: Sequence[str]) -> int: ...

    def set_aside(self, uuids: Sequence[str]) -> int: ...

    def refused_count(self) -> int: ...

    def release(self, uuids: Sequence[str]) -> int | None: ...

    def release_unacknowledged(self) -> int: ...

    def pending_count(self) -> int: ...

    def get_state(self, key: str) -> str | None: ...

    def set_state(self, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class SyncReport:
    """What one or more exchanges did. `error` is set when the last exchange failed (nothing is raised)."""

    sent: int = 0
    stored: int = 0
    duplicate: int = 0
    refused: int = 0
    released: int = 0  # events put back to pending because no answer covered them
    batches: int = 0
    pending_left: int | None = None
    error: SyncError | None = None

    @property
    def acknowledged(self) -> int:
        return self.stored + self.duplicate + self.refused

    @property
    def ok(self) -> bool:
        return self.error is None

    def plus(self, other: SyncReport) -> SyncReport:
        """The sum of two reports; the later one's pending count and error win."""
        return SyncReport(
            sent=self.sent + other.sent,
            stored=self.stored + other.stored,
            duplicate=self.duplicate + other.duplicate,
            refused=self.refused + other.refused,
            released=self.released + other.released,
            batches=self.batches + other.batches,
            pending_left=other.pending_left,
            error=other.error,
        )

    def summary(self) -> str:
        return (
            f"sent {self.sent}, acknowledged {self.acknowledged} (stored {self.stored}, duplicate "
            f"{self.duplicate}, refused {self.refused}), pending left {self.pending_left}"
        )


class SyncClient:
    """Pushes the outbox of one store to one server, one batch per `sync_once()`. Not thread-safe: one per thread."""

    def __init__(
        self,
        store: OutboxStore,
        server_url: str,
        token: str,
        *,
        ca_file: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        batch_size: int = 500,
        clock: Callable[[], datetime] = utc_now,
        max_in_flight: int = 2,
    ) -> None:
        self.store = store
        self.batch_size = min(protocol.MAX_BATCH_EVENTS, max(MIN_BATCH, batch_size))
        self.clock = clock
        self.max_in_flight = max(1, max_in_flight)
        self._new_transport: Callable[[], Transport] = lambda: Transport(
            server_url, token, ca_file=ca_file, timeout=timeout, clock=clock
        )
        self.transport = self._new_transport()  # pulls, and `sync_once()`
        self._post_transports = threading.local()  # one connection per helper thread of `drain()`
        self._all_transports = [self.transport]
        self._transports_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._needs_release = False
        self._clock_saved_at: float | None = None
        self._reported_at: float | None = None  # monotonic time of the server's last 200 to a batch
        self._reported_pending: int | None = None  # the backlog the latest report gave
        self._status_at: float | None = None  # monotonic time the latest report was made

    def start_up(self) -> int:
        """Put back what a crash left claimed but unacknowledged; call once before the first exchange."""
        released = self.store.release_unacknowledged()
        if released:
            log.info("sync: %d events left unacknowledged by a previous run will be sent again", released)
        return released

    def sync_once(self) -> SyncReport:
        """Claim one batch, post it, acknowledge what the server answered for, release the rest."""
        claimed = self._claim()
        if isinstance(claimed, SyncReport):
            return claimed
        report = self._conclude(claimed, self._post(claimed, self.status_report(len(claimed))))
        return replace(report, pending_left=self.store.pending_count())

    def drain(self, *, should_stop: Callable[[], bool] | None = None, max_batches: int | None = None) -> SyncReport:
        """Send batches until nothing is pending, an exchange fails, or `should_stop()` says so.

        Up to `max_in_flight` batches are on the wire at once (each encoded and sent by a helper thread with
        its own connection), so a slow link costs one round trip per `max_in_flight` batches, and the
        kiosk's claims overlap the server's work. After a failure no new batch is sent; those already on the
        wire are settled by their own answers. A crash leaves every claimed batch to
        `release_unacknowledged()`."""
        total = SyncReport()
        first_error: SyncError | None = None
        inflight: deque[tuple[list[StoredEvent], Future[Exchange | SyncError]]] = deque()
        exhausted = False
        pool = self._pool()
        while True:
            while not exhausted and first_error is None and len(inflight) < self.max_in_flight:
                started = total.batches + len(inflight)
                if (max_batches is not None and started >= max_batches) or (should_stop and should_stop()):
                    exhausted = True
                    break
                claimed = self._claim()
                if isinstance(claimed, SyncReport):  # nothing more to send, or the claim failed
                    exhausted = True
                    first_error = first_error or claimed.error
                    break
                inflight.append((claimed, pool.submit(self._post, claimed, self.status_report(len(claimed)))))
            if not inflight:
                break
            batch, answer = inflight.popleft()
            report = self._conclude(batch, answer.result())
            total = total.plus(report)
            first_error = first_error or report.error
        return replace(total, pending_left=self.store.pending_count(), error=first_error)

    def pull(self, names: Sequence[str] | None = None) -> PullResult:
        """Fetch config, keys, revocations and trust list (those changed since last time) into the store."""
        return pull_all(self.store, self.transport, names or tuple(RESOURCES))

    def status_report(self, batch_size: int = 0, *, every_s: float = STATUS_INTERVAL_S) -> dict[str, Any] | None:
        """What this kiosk says about itself with a batch of `batch_size` events (`sync.protocol_status`; its
        `pending`: the events still waiting after that batch), read from the store on the caller's thread. None
        (the batch goes without) when one was made less than `every_s` ago (counting a 100k backlog costs ~3 ms,
        a drain makes hundreds of batches; the heartbeat after the drain reports the final backlog) or when the
        store cannot say."""
        now_mono = time.monotonic()
        if self._status_at is not None and now_mono - self._status_at < every_s:
            return None
        self._status_at = now_mono
        try:
            pending = max(0, self.store.pending_count() - batch_size)
            self._reported_pending = pending
            now = self.clock()
            reading = clock.load(self.store)
            ages: dict[str, float | None] = {}
            for name in RESOURCES:
                when = fetched_at(self.store, name)
                ages[name] = None if when is None else max(0.0, round((now - when).total_seconds(), 1))
            return KioskStatus(
                software_version=software_version(),
                pending=pending,
                refused=self.store.refused_count(),
                clock_offset_s=round(reading.offset_s, 3) if reading else None,
                ages_s=ages,
            ).to_json()
        except Exception as exc:  # a report is never worth failing a sync for
            log.warning("sync: cannot read this kiosk's status: %s", one_line(str(exc)))
            return None

    def report_status(self) -> SyncError | None:
        """Send the status alone (a batch with no events: a heartbeat); the error, if the server did not take it."""
        answer = self._post([], self.status_report(every_s=0))
        if isinstance(answer, SyncError):
            return answer
        if answer.status != 200:
            return http_error(answer, "report status")
        try:
            parsed = protocol.decode_batch_result(answer.body)
        except protocol.ProtocolError as exc:
            return SyncError("protocol", one_line(f"report status: unreadable answer ({exc})"))
        self._reported_at = time.monotonic()
        clock.save(self.store, clock.measure(parsed.server_time, answer.midpoint))
        return None

    def heartbeat(self, max_silence_s: float) -> SyncError | None:
        """Report the status if no batch reached the server for `max_silence_s` (a quiet door still looks alive
        on the fleet page, which calls a kiosk silent for an hour offline), or if the backlog is no longer the
        one last reported (batches in flight together each reported the other as waiting)."""
        spoke = self._reported_at is not None and time.monotonic() - self._reported_at < max_silence_s
        if spoke and self.store.pending_count() == self._reported_pending:
            return None
        return self.report_status()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        with self._transports_lock:
            for transport in self._all_transports:
                transport.close()

    def _thread_transport(self) -> Transport:
        """The helper thread's own connection (a requests session is not meant to be shared by threads)."""
        return getattr(self._post_transports, "transport", None) or self.transport

    def _start_post_thread(self) -> None:
        transport = self._new_transport()
        self._post_transports.transport = transport
        with self._transports_lock:
            self._all_transports.append(transport)

    def _pool(self) -> ThreadPoolExecutor:
        """The helper threads of `drain()`, kept for the client's life (a worker drains every 30 s)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self.max_in_flight, thread_name_prefix="sync-post", initializer=self._start_post_thread
            )
        return self._executor

    # -- one exchange -------------------------------------------------------------------------------------

    def _claim(self) -> list[StoredEvent] | SyncReport:
        """The next batch (now "sent"); a SyncReport when there is none or the store failed."""
        try:
            if self._needs_release:  # a failed release earlier: rows may be stuck in "sent"
                self.store.release_unacknowledged()
                self._needs_release = False
            batch = self.store.claim_pending(self.batch_size)
        except Exception as exc:  # e.g. the store is locked or the disk is full: retry later
            log.warning("sync: cannot claim pending events: %s", one_line(str(exc)))
            return SyncReport(error=SyncError("store", one_line(f"local store: {exc}")))
        return batch if batch else SyncReport(pending_left=0)

    def _post(self, batch: list[StoredEvent], status: dict[str, Any] | None) -> Exchange | SyncError:
        """Encode and send one batch with this kiosk's status. Encoded here, just before sending, so that
        `kiosk_time` is the kiosk's clock at send time (the server corrects event times with it); never raises."""
        try:
            body = protocol.gzip_body(protocol.encode_batch(batch, kiosk_time=self.clock(), status=status))
        except Exception as exc:  # a bug: the caller releases the batch
            log.exception("sync: cannot encode a batch")
            return SyncError("protocol", one_line(f"sync failed: cannot encode a batch ({type(exc).__name__})"))
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        return self._thread_transport().request("POST", protocol.EVENTS_PATH, body=body, headers=headers)

    def _conclude(self, batch: list[StoredEvent], answer: Exchange | SyncError) -> SyncReport:
        """Acknowledge or release `batch` according to the answer; never raises."""
        try:
            return self._judge(batch, answer)
        except Exception as exc:  # a bug or a store error must not leave the batch claimed
            log.exception("sync: unexpected failure while settling a batch")
            self._release(batch, set())
            return SyncReport(
                sent=len(batch),
                released=len(batch),
                batches=1,
                error=SyncError("protocol", one_line(f"sync failed: {type(exc).__name__}")),
            )

    def _judge(self, batch: list[StoredEvent], answer: Exchange | SyncError) -> SyncReport:
        if isinstance(answer, SyncError):
            return self._failed(batch, answer)
        if answer.status != 200:
            if answer.status == 413 and self.batch_size > MIN_BATCH:
                self.batch_size = max(MIN_BATCH, self.batch_size // 2)  # the server's limit is lower than ours
            return self._failed(batch, http_error(answer, "send events"))
        try:
            parsed = protocol.decode_batch_result(answer.body)
        except protocol.ProtocolError as exc:
            return self._failed(batch, SyncError("protocol", one_line(f"send events: unreadable answer ({exc})")))
        self._save_clock(clock.measure(parsed.server_time, answer.midpoint))
        self._reported_at = time.monotonic()
        return self._settle(batch, parsed.results)

    def _save_clock(self, reading: clock.ClockReading) -> None:
        """Keep the offset in the store, at most every few seconds (a drain makes hundreds of exchanges)."""
        now = time.monotonic()
        if self._clock_saved_at is None or now - self._clock_saved_at >= CLOCK_SAVE_INTERVAL_S:
            clock.save(self.store, reading)
            self._clock_saved_at = now

    def _settle(self, batch: list[StoredEvent], results: Sequence[Any]) -> SyncReport:
        """Acknowledge every event the server gave a final answer for; release the others.

        Answers are matched by the UUID's value, not its spelling (a server may answer in upper case or
        without dashes), and each event counts once however often it is named. An event the answer leaves
        out is released and the exchange is a protocol error, so the caller stops and backs off: a server
        that keeps leaving events out costs a resend per back-off, never a tight loop."""
        in_batch = {canonical_uuid(event.uuid): event.uuid for event in batch}
        counts = {"stored": 0, "duplicate": 0, "refused": 0}
        done: dict[str, str] = {}  # our spelling of each answered uuid -> its status, in answer order
        for result in results:
            ours = in_batch.get(canonical_uuid(result.uuid))
            if ours is None or ours in done or result.status not in ACKNOWLEDGING:
                continue
            counts[result.status] += 1
            done[ours] = result.status
            if result.status == "refused":  # the uuid and reason only: no personal data in logs
                log.warning("sync: server refused event %s: %s", ours, one_line(result.reason or "no reason"))
                self.store.set_state(LAST_REFUSAL_KEY, one_line(result.reason or "no reason"))
        stored = [uuid for uuid, status in done.items() if status != "refused"]
        if stored:
            self.store.acknowledge(stored)
        if len(stored) < len(done):  # refused: final, so never resent, but kept (it did not reach the server)
            self.store.set_aside([uuid for uuid, status in done.items() if status == "refused"])
        released = self._release(batch, set(done))
        error = None
        if released:
            error = SyncError("protocol", f"send events: the server did not answer for {released} events")
        return SyncReport(sent=len(batch), released=released, batches=1, error=error, **counts)

    def _failed(self, batch: list[StoredEvent], error: SyncError) -> SyncReport:
        released = self._release(batch, set())
        return SyncReport(sent=len(batch), released=released, batches=1, error=error)

    def _release(self, batch: list[StoredEvent], keep: set[str]) -> int:
        uuids = [event.uuid for event in batch if event.uuid not in keep]
        if not uuids:
            return 0
        try:
            self.store.release(uuids)
        except Exception:  # e.g. database locked: retry the blanket release before the next claim
            log.exception("sync: could not release a batch; will release before the next exchange")
            self._needs_release = True
        return len(uuids)


def canonical_uuid(text: str) -> str:
    """The canonical form of a UUID (lower case, dashed), so that answers match whatever their spelling;
    text that is no UUID stays as it is (and matches nothing of ours)."""
    try:
        return str(uuid.UUID(text))
    except (ValueError, TypeError, AttributeError):
        return text
