"""The background sync worker: a `SyncClient` in a thread with its own store connection, an interval,
exponential backoff with full jitter and Retry-After, publishing a `SyncStatus` value for the status bar.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from sync import clock
from sync.client import LAST_REFUSAL_KEY, OutboxStore, SyncClient, SyncReport
from sync.pull import RESOURCES, PullResult, fetched_at
from sync.transport import DEFAULT_TIMEOUT, SyncError, Timeout, one_line, utc_now

log = logging.getLogger("sync.client")
T = TypeVar("T")


class Backoff:
    """Exponential backoff with full jitter (AWS architecture blog): delay = uniform(0, min(cap, base * 2^n))."""

    def __init__(self, base_s: float = 1.0, cap_s: float = 300.0, rng: Callable[[], float] = random.random) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.rng = rng
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * float(2 ** min(self.failures, 32)))
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
    refused: int = 0  # events the server refused, set aside: kept here, never resent
    last_refusal: str | None = None  # the server's reason for the latest one
    last_success: datetime | None = None
    last_error: str | None = None  # one line, no personal data
    token_refused: bool = False  # the server refused this kiosk's token (revoked or expired): enrol again
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
        refused=store.refused_count(),
        last_refusal=store.get_state(LAST_REFUSAL_KEY),
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
        open_store: Callable[[], OutboxStore],
        server_url: str,
        token: str,
        *,
        ca_file: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        batch_size: int = 500,
        max_in_flight: int = 2,
        interval_s: float = 30.0,
        pull_interval_s: float = 900.0,
        heartbeat_s: float = 300.0,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 300.0,
        clock: Callable[[], datetime] = utc_now,
        rng: Callable[[], float] = random.random,
        on_status: Callable[[SyncStatus], None] | None = None,
    ) -> None:
        super().__init__(name="sync-worker", daemon=True)
        self._open_store = open_store
        self._new_client: Callable[[OutboxStore], SyncClient] = lambda store: SyncClient(
            store,
            server_url,
            token,
            ca_file=ca_file,
            timeout=timeout,
            batch_size=batch_size,
            clock=clock,
            max_in_flight=max_in_flight,
        )
        self.interval_s = interval_s
        self.pull_interval_s = pull_interval_s
        self.heartbeat_s = heartbeat_s
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
        client = self._new_client(store)
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

    def _cycle(self, client: SyncClient, store: OutboxStore) -> SyncError | None:
        """One round: push everything pending, pull if due. Returns the error that should delay the next round."""
        report = self._guarded(lambda: client.drain(should_stop=self._stop_event.is_set))
        error = report.error if isinstance(report, SyncReport) else report
        pulled_now = False
        if error is None and self._pull_due():
            pulled = self._guarded(client.pull)
            error = pulled.first_error if isinstance(pulled, PullResult) else pulled
            if error is None:
                self._last_pull_mono = time.monotonic()
                pulled_now = True
        if error is None:  # the server hears about fresh pull ages at once, and from a quiet door now and then
            reported = self._guarded(client.report_status if pulled_now else lambda: client.heartbeat(self.heartbeat_s))
            error = reported if isinstance(reported, SyncError) else None
        self._publish(self._next_status(store, error))
        return error

    def _pull_due(self) -> bool:
        return self._last_pull_mono is None or time.monotonic() - self._last_pull_mono >= self.pull_interval_s

    def _next_status(self, store: OutboxStore, error: SyncError | None) -> SyncStatus:
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
            token_refused=_token_refused(previous, error),
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
    def _guarded(call: Callable[[], T]) -> T | SyncError:
        """Run `call`; an exception becomes a SyncError value (the thread must survive a bad day)."""
        try:
            return call()
        except Exception as exc:
            log.exception("sync: unexpected failure")
            return SyncError("protocol", one_line(f"sync failed: {type(exc).__name__}: {exc}"))


def _token_refused(previous: SyncStatus, error: SyncError | None) -> bool:
    """Refused on a 401/403, cleared by any success; an unreachable server says nothing either way."""
    if error is None:
        return False
    return True if error.kind == "auth" else previous.token_refused
