"""Exactly once, whatever fails: the real central server (a `kiosk-server serve` process on SQLite and on a
throwaway PostgreSQL), a real kiosk store, real faults (a killed server, injected 500/429/timeouts/cut
connections through a proxy, a kiosk process SIGKILLed mid-sync). After each: the server holds exactly the
events the kiosk recorded, none lost, none twice.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import update_config_file
from kiosk.store import Store
from sync.client import SyncClient, SyncReport
from sync.enroll import enroll
from sync.protocol import EVENTS_PATH
from sync.worker import SyncWorker
from tests.support.postgres import LiveServer, PgCluster, require_pg_bin
from tests.support.seed import bulk_load
from tests.support.sync_servers import ROOT, Fault, FaultProxy, _env, make_events

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_cluster_for_faults() -> Iterator[PgCluster]:
    cluster = PgCluster(require_pg_bin()).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server per backend for the whole module; tests that kill it start it again."""
    folder = tmp_path_factory.mktemp(f"server-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'server.db'}"
    else:
        url = request.getfixturevalue("pg_cluster_for_faults").create_database()
    live = LiveServer(url, log_path=folder / "server.log").start()
    try:
        yield live
    finally:
        live.stop()


class Kiosk:
    """A freshly enrolled kiosk (its own venue, so the server's events of the venue are exactly its own)."""

    def __init__(self, server: LiveServer, folder: Path) -> None:
        self.server = server
        self.venue_id = server.add_venue("Quán cà phê Sài Gòn")
        self.config = folder / "kiosk.toml"
        enroll(server.url, server.add_kiosk(self.venue_id), self.config)
        from kiosk.config import load_settings

        self.token = load_settings(self.config).server.token
        self.db = folder / "kiosk.sqlite3"
        self.recorded: list[str] = []

    def record(self, count: int, prefix: str = "") -> None:
        """Record scans as the station does (one durable transaction each), or bulk-load a large backlog."""
        events = make_events(count, prefix=prefix)
        with Store.open(self.db) as store:
            if count > 100:
                bulk_load(store, events, outbox_state="pending")
            else:
                for event in events:
                    store.record(event)
        self.recorded += [event.uuid for event in events]

    def client(self, store: Store, url: str | None = None, **kwargs) -> SyncClient:
        kwargs.setdefault("timeout", (2.0, 10.0))
        return SyncClient(store, url or self.server.url, self.token, **kwargs)

    def outbox(self) -> dict[str, str]:
        with sqlite3.connect(self.db) as conn:
            return dict(conn.execute("SELECT e.uuid, o.state FROM events e JOIN outbox o ON o.seq = e.seq"))

    def assert_exactly_once(self) -> None:
        stored = self.server.stored_uuids(self.venue_id)
        assert len(stored) == len(set(stored)), "an event is stored twice"
        assert sorted(stored) == sorted(self.recorded), (
            f"lost {len(set(self.recorded) - set(stored))}, unexpected {len(set(stored) - set(self.recorded))}"
        )
        assert set(self.outbox().values()) == {"acknowledged"}

    def assert_no_false_acknowledgement(self) -> None:
        """The invariant at any moment: an event the kiosk marks acknowledged is on the server, once."""
        stored = self.server.stored_uuids(self.venue_id)
        assert len(stored) == len(set(stored))
        acknowledged = {uuid for uuid, state in self.outbox().items() if state == "acknowledged"}
        assert acknowledged <= set(stored)
        assert set(stored) <= set(self.recorded)


@pytest.fixture
def kiosk(server: LiveServer, tmp_path: Path) -> Kiosk:
    return Kiosk(server, tmp_path)


def drain_until_done(kiosk: Kiosk, url: str | None = None, attempts: int = 20, **kwargs) -> SyncReport:
    """What the worker does, without its waits: retry until nothing is pending."""
    with Store.open(kiosk.db) as store:
        client = kiosk.client(store, url, **kwargs)
        client.start_up()
        total = SyncReport()
        for _ in range(attempts):
            report = client.drain()
            total = total.plus(report)
            if report.ok and report.pending_left == 0:
                break
            time.sleep(0.05)
        client.close()
    return total


# --- faults of the server and the network -------------------------------------------------------------------


def test_server_down_when_the_kiosk_starts(kiosk: Kiosk) -> None:
    kiosk.record(300)
    kiosk.server.kill()
    try:
        worker = SyncWorker(
            lambda: Store.open(kiosk.db),
            kiosk.server.url,
            kiosk.token,
            timeout=(1.0, 10.0),
            batch_size=100,
            interval_s=60,
            backoff_base_s=0.1,
            backoff_cap_s=0.5,
        )
        worker.start()
        time.sleep(1.0)
        down = worker.status()
        assert not down.online and down.pending == 300 and "unreachable" in (down.last_error or "")
        kiosk.server.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (worker.status().pending or worker.status().last_success is None):
            time.sleep(0.05)
    finally:
        worker.stop()
        if kiosk.server.process is None or kiosk.server.process.poll() is not None:
            kiosk.server.start()
    assert worker.status().online and worker.status().last_error is None
    kiosk.assert_exactly_once()


def test_server_killed_in_the_middle_of_batches(kiosk: Kiosk) -> None:
    kiosk.record(3000)
    rng = random.Random(4)
    for _round in range(3):
        with Store.open(kiosk.db) as store:
            client = kiosk.client(store, batch_size=500)
            result: list[SyncReport] = []
            pusher = threading.Thread(target=lambda: result.append(client.drain()))  # noqa: B023
            pusher.start()
            time.sleep(rng.uniform(0.05, 0.4))
            kiosk.server.kill()
            pusher.join(30)
            client.close()
        kiosk.assert_no_false_acknowledgement()
        kiosk.server.start()
    assert drain_until_done(kiosk).pending_left == 0
    kiosk.assert_exactly_once()


def test_killed_through_the_proxy_while_a_batch_is_inside(kiosk: Kiosk) -> None:
    """The server dies while it holds the batch (after reading it, before answering)."""
    kiosk.record(1000)
    with FaultProxy(kiosk.server.url) as proxy:
        proxy.add(Fault("during", action=lambda: (time.sleep(0.02), kiosk.server.kill())))
        failed = drain_until_done(kiosk, proxy.url, attempts=1, batch_size=1000)
        assert failed.error is not None
        kiosk.assert_no_false_acknowledgement()
        kiosk.server.start()
        assert drain_until_done(kiosk, proxy.url).pending_left == 0
    kiosk.assert_exactly_once()


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=500),
        Fault("status_after", status=500),
        Fault("status", status=503),
        Fault("cut"),
        Fault("reset"),
    ],
    ids=["500-before", "500-after-storing", "503", "cut-mid-response", "reset"],
)
def test_error_answers_and_broken_connections(kiosk: Kiosk, fault: Fault) -> None:
    kiosk.record(600)
    with FaultProxy(kiosk.server.url) as proxy:
        proxy.add(fault, times=2)
        report = drain_until_done(kiosk, proxy.url, batch_size=250)
        assert [e.fault for e in proxy.entries()][:2] == [fault.kind] * 2
    assert report.pending_left == 0 and report.error is None
    assert report.acknowledged >= 600
    kiosk.assert_exactly_once()


def test_429_retry_after_is_honoured_by_the_worker(kiosk: Kiosk) -> None:
    kiosk.record(200)
    with FaultProxy(kiosk.server.url) as proxy:
        proxy.add(Fault("retry_after", status=429, retry_after="2"))
        worker = SyncWorker(
            lambda: Store.open(kiosk.db), proxy.url, kiosk.token, interval_s=60, backoff_base_s=0.01, batch_size=100
        )
        worker.start()
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and (worker.status().pending or worker.status().last_success is None):
                worker.wake()
                time.sleep(0.05)
        finally:
            worker.stop()
        posts = proxy.entries()
    refused = next(post for post in posts if post.status == 429)
    soon_after = [post for post in posts if 0 < post.at - refused.at < 1.95]
    assert len(soon_after) <= 1  # at most the other batch already on the wire (two in flight)
    assert any(post.at - refused.at >= 1.95 and post.status == 200 for post in posts)
    kiosk.assert_exactly_once()


def test_timeouts_and_a_slow_server(kiosk: Kiosk) -> None:
    kiosk.record(400)
    with FaultProxy(kiosk.server.url) as proxy:
        # Wide margins between the delays and the read timeout: a loaded machine must not turn "slow" into "hung".
        proxy.add(Fault("hang", seconds=3.5))
        proxy.add(Fault("slow", seconds=0.5))
        with Store.open(kiosk.db) as store:
            client = kiosk.client(store, proxy.url, timeout=(1.0, 2.0), batch_size=200)
            first = client.drain()
            assert first.error is not None and first.error.kind == "timeout"
            time.sleep(2.0)  # the hung request completes upstream: the server has that batch already
            second = client.drain()  # the slow answer trickles in under the read timeout: it succeeds
            client.close()
    assert second.ok and second.pending_left == 0
    # the hung batch reached the server: resent, it is a duplicate; the other batch was stored once
    assert (first.stored + second.stored, first.duplicate + second.duplicate) == (200, 200)
    kiosk.assert_exactly_once()


# --- the kiosk process killed mid-sync ----------------------------------------------------------------------


def run_sync_once(kiosk: Kiosk) -> subprocess.Popen[str]:
    """`kiosk sync --once` as a separate process (the real command, through the entry-point plugin)."""
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "sync", "--once", "--config", str(kiosk.config), "--db", str(kiosk.db)],
        cwd=ROOT,
        env=_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


class Scanner(threading.Thread):
    """Scans at the door while `kiosk sync --once` runs in its own process: one durable `record()` every
    `interval_s` from this (test) process, through its own store connection, as the station does."""

    def __init__(self, kiosk: Kiosk, prefix: str, interval_s: float = 0.03) -> None:
        super().__init__(daemon=True)
        self.kiosk = kiosk
        self.prefix = prefix
        self.interval_s = interval_s
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.count = 0

    def run(self) -> None:
        try:
            with Store.open(self.kiosk.db) as store:
                for event in make_events(500, prefix=self.prefix):
                    if self.stopping.is_set():
                        return
                    store.record(event)
                    self.kiosk.recorded.append(event.uuid)  # only once it is durable
                    self.count += 1
                    self.stopping.wait(self.interval_s)
        except BaseException as exc:  # reported by the test, not lost in a thread
            self.error = exc

    def stop(self) -> int:
        """Stop scanning; returns how many scans were recorded."""
        self.stopping.set()
        self.join(30)
        assert self.error is None, f"a scan failed during sync: {self.error!r}"
        return self.count


# SIGKILL rounds per backend: the SQLite half alone must land >= 20 kills inside a running sync (the issue asks
# for 20 in the suite, and PostgreSQL may not be installed); PostgreSQL adds its own on top.
KILL_ROUNDS = {"sqlite": (24, 20), "postgresql": (12, 10)}  # backend: (rounds, kills that must land mid-sync)


def test_kiosk_sigkilled_at_random_moments_during_sync(kiosk: Kiosk, request: pytest.FixtureRequest) -> None:
    """`kiosk sync --once` SIGKILLed at a random moment of each round's drain while scans go on in another
    process. A kill counts only if it landed mid-sync: the child had posted in this round, had not reached the
    pull, and part of the backlog was still unacknowledged (the drain sends oldest first)."""
    rounds, must_land = KILL_ROUNDS[request.node.callspec.params["server"]]
    with FaultProxy(kiosk.server.url) as proxy:
        proxy.delay_s = 0.05  # venue Wi-Fi: each exchange takes a while, so kills land inside exchanges too
        update_config_file(kiosk.config, "server", {"url": proxy.url, "batch_size": 50})
        kiosk.record(12000)  # a backlog no round can finish: every round is killed while it drains
        backlog = set(kiosk.recorded)
        rng = random.Random(2026)
        kills = mid_exchange = scanned = 0
        for round_number in range(rounds):
            log_before, posts_before = len(proxy.log), len(proxy.entries())
            scanner = Scanner(kiosk, prefix=f"r{round_number} ")
            scanner.start()
            child = run_sync_once(kiosk)
            deadline = time.monotonic() + 20
            while len(proxy.entries()) == posts_before and child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)  # wait for this round's first post: start-up is not what this test is about
            time.sleep(rng.uniform(0.0, 0.4))
            alive = child.poll() is None
            if alive:
                child.send_signal(signal.SIGKILL)
            child.communicate(timeout=30)
            scanned += scanner.stop()
            this_round = proxy.log[log_before:]
            outbox = kiosk.outbox()
            posted = any(e.path == EVENTS_PATH for e in this_round)
            pulled = any(e.path != EVENTS_PATH for e in this_round)
            draining = any(outbox[uuid] != "acknowledged" for uuid in backlog)
            kills += alive and posted and not pulled and draining
            mid_exchange += alive and "sent" in outbox.values()  # killed between claim and acknowledgement
            kiosk.assert_no_false_acknowledgement()
        assert kills >= must_land, f"only {kills} of {rounds} kills landed during a sync"
        assert mid_exchange >= rounds // 2, f"only {mid_exchange} kills landed inside an exchange"
        assert scanned >= rounds * 3, f"only {scanned} scans were recorded while syncs ran"
        proxy.delay_s = 0.0  # then the Wi-Fi gets better: the rest goes through in big batches
        update_config_file(kiosk.config, "server", {"batch_size": 500})
        final = run_sync_once(kiosk)
        out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    assert "pending left 0" in out
    kiosk.assert_exactly_once()


def test_sync_once_against_a_dead_server_says_so_in_one_line(kiosk: Kiosk) -> None:
    kiosk.record(5)
    with FaultProxy(kiosk.server.url) as proxy:
        update_config_file(kiosk.config, "server", {"url": proxy.url})
        proxy.add(Fault("reset"), path="/", times=50)
        child = run_sync_once(kiosk)
        _, err = child.communicate(timeout=60)
    assert child.returncode != 0
    assert len(err.strip().splitlines()) == 1 and "unreachable" in err
    assert set(kiosk.outbox().values()) == {"pending"}
