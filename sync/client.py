"""The outbox pusher: pending events -> the central server, exactly once in effect, whatever fails in between.

The outbox is a three-state machine kept by the store (pending -> sent -> acknowledged, as persist-queue's
acknowledgement queue). Each exchange claims a batch (pending -> sent, a short transaction: a scan never waits
on the network), posts it, and acknowledges each event the server answered for. Anything that goes wrong
releases the batch (sent -> pending) so it is sent again; a crash in between leaves rows "sent", and
`release_unacknowledged()` at start-up puts them back. Resending is harmless: the server ingests by event UUID
and answers "duplicate" for one it already has.

`SyncClient` does the exchanges synchronously (tests, `kiosk sync --once`); `SyncWorker` runs one in a thread
with its own store connection, an interval, exponential backoff with full jitter and Retry-After, and publishes
a `SyncStatus` value for the status bar.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from kiosk.events import StoredEvent
from sync import clock, protocol
from sync.pull import RESOURCES, PullResult, fetched_at, pull_all
from sync.transport import DEFAULT_TIMEOUT, Exchange, SyncError, Timeout, Transport, http_error, one_line, utc_now

log = logging.getLogger(__name__)

ACKNOWLEDGING = protocol.EVENT_STATUSES  # every answer is final; only silence resends
MIN_BATCH = 10
CLOCK_SAVE_INTERVAL_S = 5.0


class OutboxStore(Protocol):
    """The part of `kiosk.store.Store` the sync client uses."""

    def claim_pending(self, limit: int) -> list[StoredEvent]: ...

    def acknowledge(self, uuids: Sequence[str]) -> int: ...

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
        self._new_transport = lambda: Transport(server_url, token, ca_file=ca_file, timeout=timeout, clock=clock)
        self.transport = self._new_transport()  # pulls, and `sync_once()`
        self._post_transports = threading.local()  # one connection per helper thread of `drain()`
        self._all_transports = [self.transport]
        self._transports_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._needs_release = False
        self._clock_saved_at: float | None = None

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
        report = self._conclude(claimed, self._post(claimed))
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
                inflight.append((claimed, pool.submit(self._post, claimed)))
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

    def _post(self, batch: list[StoredEvent]) -> Exchange | SyncError:
        """Encode and send one batch. Encoded here, just before sending, so that `kiosk_time` is the kiosk's
        clock at send time (the server corrects event times with it); never raises."""
        try:
            body = protocol.gzip_body(protocol.encode_batch(batch, kiosk_time=self.clock()))
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
        done: dict[str, None] = {}  # our spelling of each answered uuid, in answer order
        for result in results:
            ours = in_batch.get(canonical_uuid(result.uuid))
            if ours is None or ours in done or result.status not in ACKNOWLEDGING:
                continue
            counts[result.status] += 1
            done[ours] = None
            if result.status == "refused":  # the uuid and reason only: no personal data in logs
                log.warning("sync: server refused event %s: %s", ours, one_line(result.reason or "no reason"))
        if done:
            self.store.acknowledge(list(done))
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


# -- the background worker --------------------------------------------------------------------------------


class Backoff:
    """Exponential backoff with full jitter (AWS architecture blog): delay = uniform(0, min(cap, base * 2^n))."""

    def __init__(self, base_s: float = 1.0, cap_s: float = 300.0, rng: Callable[[], float] = random.random) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.rng = rng
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** min(self.failures, 32)))
        self.failures += 1
        return self.rng() * ceiling

    def reset(self) -> None:
        self.failures = 0


def delay_after(error: SyncError | None, backoff: Backoff, interval_s: float) -> float:
    """How long to wait before the next attempt: Retry-After when the server gave one, else backoff or interval."""
    if error is None:
        backoff.reset()
        return interval_s
    if error.retry_after_s is not None:
        backoff.next_delay()  # count the failure so that a run of 429s without headers keeps growing
        return error.retry_after_s
    if not error.retryable:
        backoff.failures = max(backoff.failures, 32)  # a wrong token will not fix itself in a second
    return backoff.next_delay()


@dataclass(frozen=True)
class SyncStatus:
    """The worker's state for the status bar, as a value (safe to hand to another thread)."""

    online: bool = False
    pending: int = 0
    last_success: datetime | None = None
    last_error: str | None = None  # one line, no personal data
    clock_offset_s: float | None = None
    offset_warning: bool = False
    fetched_at: dict[str, datetime | None] = field(default_factory=dict)  # pull resource -> last confirmed
    next_attempt_in_s: float | None = None
    running: bool = False

    def age_s(self, name: str, now: datetime | None = None) -> float | None:
        """Age of a pulled resource ("config", "keys", "revocations", "trust-list") in seconds; None if never."""
        when = self.fetched_at.get(name)
        return None if when is None else max(0.0, ((now or utc_now()) - when).total_seconds())

    @property
    def config_age_s(self) -> float | None:
        return self.age_s("config")

    @property
    def keys_age_s(self) -> float | None:
        return self.age_s("keys")

    @property
    def revocations_age_s(self) -> float | None:
        return self.age_s("revocations")

    @property
    def trust_list_age_s(self) -> float | None:
        return self.age_s("trust-list")


def read_status(
    store: OutboxStore, *, online: bool = False, last_success: datetime | None = None, last_error: str | None = None
) -> SyncStatus:
    """A status from what the store knows (pending count, clock offset, pull ages): for `kiosk sync --status`."""
    reading = clock.load(store)
    return SyncStatus(
        online=online,
        pending=store.pending_count(),
        last_success=last_success,
        last_error=last_error,
        clock_offset_s=reading.offset_s if reading else None,
        offset_warning=reading.warning if reading else False,
        fetched_at={name: fetched_at(store, name) for name in RESOURCES},
    )


class SyncWorker(threading.Thread):
    """Background sync: drains the outbox every `interval_s` (or at once after `wake()`), pulls every
    `pull_interval_s`, backs off on failure. Opens its own store connection in its own thread (SQLite
    connections are per thread), so the scan path's writer never shares a connection with the network."""

    def __init__(
        self,
        open_store: Callable[[], Any],
        server_url: str,
        token: str,
        *,
        ca_file: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        batch_size: int = 500,
        max_in_flight: int = 2,
        interval_s: float = 30.0,
        pull_interval_s: float = 900.0,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 300.0,
        clock: Callable[[], datetime] = utc_now,
        rng: Callable[[], float] = random.random,
        on_status: Callable[[SyncStatus], None] | None = None,
    ) -> None:
        super().__init__(name="sync-worker", daemon=True)
        self._open_store = open_store
        self._client_args = dict(
            ca_file=ca_file, timeout=timeout, batch_size=batch_size, clock=clock, max_in_flight=max_in_flight
        )
        self._server_url = server_url
        self._token = token
        self.interval_s = interval_s
        self.pull_interval_s = pull_interval_s
        self._backoff = Backoff(backoff_base_s, backoff_cap_s, rng)
        self._clock = clock
        self._on_status = on_status
        self._stop_event = threading.Event()
        self._wake_event = threading.Event()
        self._force = False
        self._lock = threading.Lock()
        self._status = SyncStatus()
        self._last_pull_mono: float | None = None

    # -- control, from any thread -------------------------------------------------------------------------

    def stop(self, timeout: float | None = 10.0) -> None:
        """Ask the worker to finish its current exchange and exit; wait up to `timeout` seconds."""
        self._stop_event.set()
        self._wake_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def wake(self, force: bool = False) -> None:
        """Sync soon (e.g. after a scan). While backing off after an error only `force=True` cuts the wait
        short, so that a busy entrance cannot hammer a server that asked for a pause."""
        with self._lock:
            self._force = self._force or force
        self._wake_event.set()

    def status(self) -> SyncStatus:
        with self._lock:
            return self._status

    # -- the loop, in the worker thread -------------------------------------------------------------------

    def run(self) -> None:
        try:
            store = self._open_store()
        except Exception as exc:
            self._publish(replace(self._status, last_error=one_line(f"cannot open the store: {exc}")))
            return
        client = SyncClient(store, self._server_url, self._token, **self._client_args)  # type: ignore[arg-type]
        try:
            if isinstance(self._guarded(client.start_up), SyncError):
                client._needs_release = True  # the store was busy: release before the first claim instead
            self._publish(replace(read_status(store), running=True))
            while not self._stop_event.is_set():
                error = self._cycle(client, store)
                delay = delay_after(error, self._backoff, self.interval_s)
                self._publish(replace(self.status(), next_attempt_in_s=delay))
                self._wait(delay, backing_off=error is not None)
        finally:
            client.close()
            close = getattr(store, "close", None)
            if callable(close):
                self._guarded(close)
            self._publish(replace(self.status(), running=False, next_attempt_in_s=None))

    def _cycle(self, client: SyncClient, store: Any) -> SyncError | None:
        """One round: push everything pending, pull if due. Returns the error that should delay the next round."""
        report = self._guarded(lambda: client.drain(should_stop=self._stop_event.is_set))
        error = report.error if isinstance(report, SyncReport) else report
        if error is None and self._pull_due():
            pulled = self._guarded(client.pull)
            error = pulled.first_error if isinstance(pulled, PullResult) else pulled
            if error is None:
                self._last_pull_mono = time.monotonic()
        self._publish(self._next_status(store, error))
        return error

    def _pull_due(self) -> bool:
        return self._last_pull_mono is None or time.monotonic() - self._last_pull_mono >= self.pull_interval_s

    def _next_status(self, store: Any, error: SyncError | None) -> SyncStatus:
        previous = self.status()
        fresh = self._guarded(lambda: read_status(store))
        base = fresh if isinstance(fresh, SyncStatus) else previous
        return replace(
            base,
            # online: the server answered, even if unhappy; a local store error says nothing about the network
            online=previous.online
            if error is not None and error.kind == "store"
            else error is None or error.kind in ("http", "protocol", "auth"),
            last_success=self._clock() if error is None else previous.last_success,
            last_error=None if error is None else one_line(error.message),
            running=True,
        )

    def _wait(self, delay: float, *, backing_off: bool) -> None:
        deadline = time.monotonic() + delay
        while not self._stop_event.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            woken = self._wake_event.wait(remaining)
            self._wake_event.clear()
            if woken:
                with self._lock:
                    force, self._force = self._force, False
                if not backing_off or force:
                    return

    def _publish(self, status: SyncStatus) -> None:
        with self._lock:
            self._status = status
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:  # a UI callback's bug must not kill sync
                log.exception("sync: status callback failed")

    @staticmethod
    def _guarded(call: Callable[[], Any]) -> Any:
        """Run `call`; an exception becomes a SyncError value (the thread must survive a bad day)."""
        try:
            return call()
        except Exception as exc:
            log.exception("sync: unexpected failure")
            return SyncError("protocol", one_line(f"sync failed: {type(exc).__name__}: {exc}"))
