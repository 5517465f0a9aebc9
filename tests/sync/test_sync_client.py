"""The kiosk's sync client against real HTTP servers on 127.0.0.1 and a real SQLite store.

The happy paths (batches, duplicates after a resend, pull, `kiosk sync --once`) also run against the real
central server (`kiosk-server serve` on SQLite, `tests.support.postgres.LiveServer`), so the imitation server, used where
a test needs precise control of the answers, cannot drift from the real one unnoticed."""

from __future__ import annotations

import base64
import logging
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from kiosk.store import Store
from sync import clock, protocol
from sync.client import SyncClient, canonical_uuid
from sync.pull import age_seconds, cached, pull_all, trust_material
from sync.transport import SyncError, Transport, parse_retry_after
from sync.worker import Backoff, SyncWorker, delay_after, read_status
from tests.support.postgres import LiveServer, sqlite_server_for
from tests.support.seed import bulk_load
from tests.support.sync_servers import TOKEN, Fault, FaultProxy, ImitationServer, free_port, make_events


@pytest.fixture
def server(tmp_path: Path):
    with ImitationServer(tmp_path / "server.sqlite3") as running:
        yield running


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real central server on SQLite, one process for the module (each test enrols its own kiosk)."""
    yield from sqlite_server_for(tmp_path_factory, "real-server")


def record(store: Store, count: int, prefix: str = "") -> list[str]:
    return [store.record(event).uuid for event in make_events(count, prefix=prefix)]


def client_for(store: Store, url: str, **kwargs) -> SyncClient:
    kwargs.setdefault("timeout", (2.0, 5.0))
    return SyncClient(store, url, TOKEN, **kwargs)


# --- pushing ----------------------------------------------------------------------------------------------------


def test_drain_sends_every_event_once_in_batches(store: Store, server: ImitationServer) -> None:
    uuids = record(store, 1203)
    client = client_for(store, server.url, batch_size=500)
    report = client.drain()
    assert report.ok, report.error
    assert (report.batches, report.sent, report.stored, report.pending_left) == (3, 1203, 1203, 0)
    assert sorted(server.stored_uuids()) == sorted(uuids)
    assert set(server.arrivals().values()) == {1}
    assert store.outbox_counts() == {"pending": 0, "sent": 0, "acknowledged": 1203}
    posts = [r for r in server.requests if r[0] == "POST"]
    assert len(posts) == 3


def test_events_arrive_intact_with_diacritics(store: Store, server: ImitationServer) -> None:
    events = make_events(5)
    for event in events:
        store.record(event)
    assert client_for(store, server.url).drain().ok
    bodies = server.stored_bodies()
    for event in events:
        assert bodies[event.uuid] == protocol.event_to_json(event)
    assert bodies[events[2].uuid]["full_name"] == "Lê Hoàng Đức"


def test_nothing_pending_sends_nothing(store: Store, server: ImitationServer) -> None:
    report = client_for(store, server.url).sync_once()
    assert (report.sent, report.pending_left, report.error) == (0, 0, None)
    assert not [r for r in server.requests if r[0] == "POST"]


def test_crash_between_send_and_acknowledge_resends_and_server_says_duplicate(
    store: Store, server: ImitationServer
) -> None:
    uuids = record(store, 40)
    claimed = store.claim_pending(25)  # sent, then the kiosk "crashed" before the answer was recorded
    server.ingest(protocol.encode_batch(claimed, datetime.now(UTC)))
    client = client_for(store, server.url)
    assert client.start_up() == 25
    report = client.drain()
    assert (report.stored, report.duplicate, report.pending_left) == (15, 25, 0)
    assert sorted(server.stored_uuids()) == sorted(uuids)


def test_refused_events_are_set_aside_and_logged_without_personal_data(
    store: Store, server: ImitationServer, caplog: pytest.LogCaptureFixture
) -> None:
    uuids = record(store, 10)
    server.refuse_uuids = {uuids[3]}
    with caplog.at_level(logging.INFO, logger="sync"):
        report = client_for(store, server.url).drain()
    assert (report.stored, report.refused, report.pending_left) == (9, 1, 0)
    assert store.refused_count() == 1 and store.outbox_counts()["acknowledged"] == 9  # kept, never resent
    store.close_stale_entries(datetime.now(UTC) + timedelta(days=1))
    store.purge(datetime.now(UTC) + timedelta(days=1))
    assert [e.uuid for e in store.events()] == [uuids[3]]  # the acknowledged ones go; the refused one is kept
    assert read_status(store).refused == 1 and read_status(store).last_refusal == "test refusal"
    assert uuids[3] in caplog.text and "test refusal" in caplog.text
    for event in make_events(10):
        assert event.full_name not in caplog.text
    assert "0790" not in caplog.text  # no ID numbers


def test_events_the_server_did_not_answer_for_are_sent_again(store: Store, server: ImitationServer) -> None:
    uuids = record(store, 10)
    server.silent_uuids = set(uuids[:2])
    client = client_for(store, server.url)
    first = client.sync_once()
    assert (first.stored, first.released, first.pending_left) == (8, 2, 2)
    assert first.error is not None and "did not answer" in first.error.message
    server.silent_uuids = set()
    second = client.sync_once()
    assert (second.duplicate, second.pending_left) == (2, 0)


def test_unreachable_server_leaves_everything_pending(store: Store) -> None:
    record(store, 30)
    report = client_for(store, f"http://127.0.0.1:{free_port()}").drain()
    assert report.error is not None and report.error.kind == "unreachable"
    assert "\n" not in report.error.message and report.error.retryable
    assert store.outbox_counts() == {"pending": 30, "sent": 0, "acknowledged": 0}


def test_http_500_releases_the_batch_and_the_next_attempt_succeeds(store: Store, server: ImitationServer) -> None:
    uuids = record(store, 20)
    with FaultProxy(server.url) as proxy:
        proxy.add(Fault("status", status=500))
        client = client_for(store, proxy.url)
        failed = client.drain()
        assert failed.error is not None and failed.error.status == 500 and failed.error.retryable
        assert store.outbox_counts()["pending"] == 20
        assert client.drain().ok
    assert sorted(server.stored_uuids()) == sorted(uuids)


def test_500_after_the_server_stored_gives_duplicates_not_copies(store: Store, server: ImitationServer) -> None:
    uuids = record(store, 20)
    with FaultProxy(server.url) as proxy:
        proxy.add(Fault("status_after", status=500))
        client = client_for(store, proxy.url)
        assert client.drain().error is not None
        report = client.drain()
    assert (report.duplicate, report.pending_left) == (20, 0)
    assert sorted(server.stored_uuids()) == sorted(uuids)


def test_429_carries_retry_after_seconds_and_http_date(store: Store, server: ImitationServer) -> None:
    record(store, 5)
    later = datetime.now(UTC) + timedelta(seconds=90)
    with FaultProxy(server.url) as proxy:
        proxy.add(Fault("retry_after", status=429, retry_after="7"))
        proxy.add(Fault("retry_after", status=503, retry_after=format_datetime(later, usegmt=True)))
        client = client_for(store, proxy.url)
        first = client.drain()
        second = client.drain()
    assert first.error is not None and first.error.retry_after_s == 7
    assert second.error is not None and 85 <= (second.error.retry_after_s or 0) <= 91
    assert delay_after(first.error, Backoff(), 30) == 7


def test_timeout_then_resend_is_counted_once(store: Store, server: ImitationServer) -> None:
    uuids = record(store, 12)
    with FaultProxy(server.url) as proxy:
        proxy.add(Fault("hang", seconds=2.0))
        client = client_for(store, proxy.url, timeout=(1.0, 0.5))
        started = time.monotonic()
        failed = client.drain()
        assert time.monotonic() - started < 1.9
        assert failed.error is not None and failed.error.kind == "timeout"
        time.sleep(1.6)  # let the hung request finish upstream
        report = client.drain()
    assert (report.duplicate, report.pending_left) == (12, 0)
    assert sorted(server.stored_uuids()) == sorted(uuids)
    assert set(server.arrivals().values()) == {2}


def test_connection_closed_mid_response(store: Store, server: ImitationServer) -> None:
    uuids = record(store, 30)
    with FaultProxy(server.url) as proxy:
        proxy.add(Fault("cut"))
        client = client_for(store, proxy.url)
        failed = client.drain()
        assert failed.error is not None and failed.error.kind in ("unreachable", "protocol")
        assert store.outbox_counts()["sent"] == 0
        assert client.drain().ok
    assert sorted(server.stored_uuids()) == sorted(uuids)


def test_wrong_token_is_an_auth_error_that_backs_off_to_the_cap(store: Store, server: ImitationServer) -> None:
    record(store, 3)
    report = SyncClient(store, server.url, "wrong-token").drain()
    assert report.error is not None and report.error.kind == "auth" and not report.error.retryable
    assert store.outbox_counts()["pending"] == 3
    backoff = Backoff(base_s=1, cap_s=300, rng=lambda: 1.0)
    assert delay_after(report.error, backoff, 30) == 300


def test_413_halves_the_batch_size(store: Store, server: ImitationServer) -> None:
    record(store, 50)
    with FaultProxy(server.url) as proxy:
        proxy.add(Fault("status", status=413))
        client = client_for(store, proxy.url, batch_size=40)
        assert client.drain().error is not None
        assert client.batch_size == 20
        assert client.drain().ok


# --- clock ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("skew_s", [300.0, -200.0, 30.0])
def test_clock_offset_is_recorded_and_warned(store: Store, server: ImitationServer, skew_s: float) -> None:
    server.server_clock = lambda: datetime.now(UTC) + timedelta(seconds=skew_s)
    record(store, 3)
    assert client_for(store, server.url).drain().ok
    reading = clock.load(store)
    assert reading is not None and abs(reading.offset_s - skew_s) < 1.0
    status = read_status(store)
    assert status.offset_warning is (abs(skew_s) > 120)


# --- pull -------------------------------------------------------------------------------------------------------


def test_pull_caches_with_etags_and_knows_the_age(store: Store, server: ImitationServer) -> None:
    transport = Transport(server.url, TOKEN)
    first = pull_all(store, transport)
    assert first.ok and set(first.outcomes.values()) == {"updated"}
    config, fetched = cached(store, "config")
    assert config["venue_name"] == "Chợ Bến Thành" and fetched is not None
    second = pull_all(store, transport)
    assert set(second.outcomes.values()) == {"unchanged"}
    assert [r[2] for r in server.requests if r[1] == protocol.CONFIG_PATH] == [200, 304]
    server.documents[protocol.CONFIG_PATH] = dict(config, mode="exit")
    assert pull_all(store, transport, ["config"]).outcomes == {"config": "updated"}
    assert cached(store, "config")[0]["mode"] == "exit"
    later = datetime.now(UTC) + timedelta(hours=3)
    assert 3 * 3600 - 5 < (age_seconds(store, "trust-list", later) or 0) <= 3 * 3600 + 1
    assert age_seconds(store, "never-fetched") is None


def test_pull_failure_keeps_the_old_copy_and_its_age(store: Store, server: ImitationServer) -> None:
    transport = Transport(server.url, TOKEN)
    assert pull_all(store, transport).ok
    _, before = cached(store, "keys")
    dead = Transport(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=(1.0, 1.0))
    result = pull_all(store, dead)
    assert not result.ok and result.first_error is not None and result.first_error.kind == "unreachable"
    assert cached(store, "keys")[1] == before


def test_unusable_document_is_not_cached(store: Store, server: ImitationServer) -> None:
    server.documents[protocol.TRUST_LIST_PATH] = {"certificates": [{"no": "kid"}]}
    result = pull_all(store, Transport(server.url, TOKEN))
    assert "trust-list" in result.errors and cached(store, "trust-list") == (None, None)
    assert cached(store, "config")[0] is not None


def _self_signed(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DSC test")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


def test_trust_material_from_the_cache(store: Store, server: ImitationServer) -> None:
    ed_key = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = ed_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    spki = ec_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    certificate = _self_signed(ec_key)
    der = certificate.public_bytes(serialization.Encoding.DER)
    import hashlib

    kid = hashlib.sha256(der).digest()[:8]
    b64 = base64.b64encode
    server.documents[protocol.KEYS_PATH] = {
        "keys": [
            {"kid": "k1", "alg": "Ed25519", "public_key": b64(raw).decode()},
            {"kid": "k2", "alg": "ES256", "public_key": b64(spki).decode(), "status": "retired"},
            {"kid": "k3", "alg": "Ed25519", "public_key": b64(raw).decode(), "status": "revoked"},
            {"kid": "k4", "alg": "ES256", "public_key": b64(spki).decode(), "status": "retired"},
            {"kid": "bad", "alg": "Ed25519", "public_key": "not base64!"},
        ]
    }
    server.documents[protocol.REVOCATIONS_PATH] = {
        "revocations": [{"kind": "person", "value": "P-123", "revoked_at": None}, {"kind": "key", "value": "k2"}]
    }
    server.documents[protocol.TRUST_LIST_PATH] = {
        "certificates": [{"kid": b64(kid).decode(), "certificate": b64(der).decode()}]
    }
    assert trust_material(store).fetched_at is None  # nothing cached: nothing trusted, and it says so
    assert pull_all(store, Transport(server.url, TOKEN)).ok
    trust = trust_material(store)
    assert set(trust.personal_keys) == {"k1", "k4"}  # k2 revoked by the list, k3 by its status
    assert isinstance(trust.personal_keys["k1"], ed25519.Ed25519PublicKey)
    assert isinstance(trust.personal_keys["k4"], ec.EllipticCurvePublicKey)
    assert trust.revoked_personal_kids == {"k2"}
    assert trust.revoked_personal_ids == {"P-123"}
    assert trust.dcc_certificates[kid][0].fingerprint(hashes.SHA256()) == certificate.fingerprint(hashes.SHA256())
    assert trust.fetched_at is not None


# --- backoff and Retry-After --------------------------------------------------------------------------------


def test_backoff_is_full_jitter_with_a_cap() -> None:
    top = Backoff(base_s=1, cap_s=300, rng=lambda: 1.0)
    assert [top.next_delay() for _ in range(11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert Backoff(rng=lambda: 0.0).next_delay() == 0
    jittered = Backoff(base_s=1, cap_s=300)
    delays = [jittered.next_delay() for _ in range(200)]
    assert all(0 <= d <= 300 for d in delays) and len(set(delays)) > 150
    error = SyncError("unreachable", "down")
    backoff = Backoff(rng=lambda: 1.0)
    assert delay_after(error, backoff, 30) == 1 and delay_after(error, backoff, 30) == 2
    assert delay_after(None, backoff, 30) == 30 and backoff.failures == 0


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Wed, 25 Nov 2026 12:01:30 GMT", now) == 90
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None
    assert parse_retry_after("999999", now) == 3600


# --- the background worker ----------------------------------------------------------------------------------


def test_worker_starts_with_server_down_then_drains_and_reports(tmp_path: Path, server: ImitationServer) -> None:
    db = tmp_path / "kiosk.sqlite3"
    with Store.open(db) as scans:
        uuids = record(scans, 60)
        with FaultProxy(server.url) as proxy:
            proxy.add(Fault("reset"), path="/", times=3)  # down for the first three requests
            statuses = []
            worker = SyncWorker(
                lambda: Store.open(db),
                proxy.url,
                TOKEN,
                timeout=(1.0, 2.0),
                batch_size=25,
                interval_s=60,
                backoff_base_s=0.05,
                backoff_cap_s=0.2,
                on_status=statuses.append,
            )
            worker.start()
            try:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and worker.status().last_success is None:
                    time.sleep(0.05)
                status = worker.status()
                assert status.online and status.pending == 0 and status.last_error is None
                assert status.clock_offset_s is not None and not status.offset_warning
                assert status.config_age_s is not None and status.config_age_s < 60
                assert any(s.last_error and "unreachable" in s.last_error for s in statuses)
                more = record(scans, 7, prefix="x")
                worker.wake()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and scans.pending_count():
                    time.sleep(0.05)
                assert sorted(server.stored_uuids()) == sorted(uuids + more)
                assert time.monotonic() < deadline - 9  # woken at once, not after the 60 s interval
            finally:
                worker.stop()
            assert not worker.is_alive() and not worker.status().running


def test_worker_honours_retry_after(tmp_path: Path, server: ImitationServer) -> None:
    db = tmp_path / "kiosk.sqlite3"
    with Store.open(db) as scans:
        record(scans, 5)
    with FaultProxy(server.url) as proxy:
        proxy.add(Fault("retry_after", status=429, retry_after="1"))
        worker = SyncWorker(lambda: Store.open(db), proxy.url, TOKEN, interval_s=60, backoff_base_s=0.01)
        worker.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(proxy.entries()) < 2:
                worker.wake()  # a busy entrance: must not cut a server-requested pause short
                time.sleep(0.02)
        finally:
            worker.stop()
        first, second = proxy.entries()[:2]
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 0.95


@pytest.mark.slow
def test_a_slow_server_never_blocks_a_scan(tmp_path: Path, server: ImitationServer) -> None:
    db = tmp_path / "kiosk.sqlite3"
    with Store.open(db) as scans:
        record(scans, 200)
        with FaultProxy(server.url) as proxy:
            proxy.add(Fault("slow", seconds=1.0), times=3)
            worker = SyncWorker(lambda: Store.open(db), proxy.url, TOKEN, batch_size=50, interval_s=0.1)
            worker.start()
            try:
                time.sleep(0.2)
                slowest = 0.0
                for event in make_events(40, prefix="scan "):
                    started = time.perf_counter()
                    scans.record(event)
                    slowest = max(slowest, time.perf_counter() - started)
                    time.sleep(0.02)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and scans.pending_count():
                    time.sleep(0.05)
            finally:
                worker.stop()
            assert scans.pending_count() == 0
    # Each slow answer takes 1 s: a scan that waited for one would take about that long. 0.5 s leaves room for
    # a loaded machine's fsync and scheduling without letting a wait for the network through.
    assert slowest < 0.5, f"a scan waited {slowest:.3f} s for the network"
    assert len(server.stored_uuids()) == 240


# --- the commands -------------------------------------------------------------------------------------------


def _enrolled_config(tmp_path: Path, url: str) -> Path:
    from kiosk.config import update_config_file

    config = tmp_path / "kiosk.toml"
    update_config_file(config, "server", {"url": url, "token": TOKEN, "sync_interval_seconds": 0.2})
    return config


def _sync_command(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "kiosk.cli", "sync", *args]


def test_cli_sync_once_and_status(tmp_path: Path, server: ImitationServer) -> None:
    import subprocess

    from tests.support.sync_servers import ROOT, _env

    config, db = _enrolled_config(tmp_path, server.url), tmp_path / "kiosk.sqlite3"
    with Store.open(db) as scans:
        uuids = record(scans, 42)
    done = subprocess.run(
        _sync_command("--once", "--config", str(config), "--db", str(db)),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    assert "sent 42, acknowledged 42 (stored 42, duplicate 0, refused 0), pending left 0" in done.stdout
    assert "config updated" in done.stdout
    assert sorted(server.stored_uuids()) == sorted(uuids)
    status = subprocess.run(
        _sync_command("--status", "--config", str(config), "--db", str(db)),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=_env(),
    )
    assert "pending events: 0" in status.stdout and "trust-list: fetched" in status.stdout


def test_cli_sync_in_the_foreground_stops_cleanly_on_sigterm(tmp_path: Path, server: ImitationServer) -> None:
    import signal
    import subprocess

    from tests.support.sync_servers import ROOT, _env

    config, db = _enrolled_config(tmp_path, server.url), tmp_path / "kiosk.sqlite3"
    with Store.open(db) as scans:
        record(scans, 10)
        child = subprocess.Popen(
            _sync_command("--config", str(config), "--db", str(db)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=_env(),
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and len(server.stored_uuids()) < 10:
                time.sleep(0.05)
            more = record(scans, 5, prefix="later ")  # picked up by the next 0.2 s round
            while time.monotonic() < deadline and scans.pending_count():
                time.sleep(0.05)
            assert scans.pending_count() == 0 and set(more) <= set(server.stored_uuids())
        finally:
            child.send_signal(signal.SIGTERM)
            out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert "sync: online, 0 pending" in out


def test_pulled_config_becomes_station_settings(store: Store, server: ImitationServer) -> None:
    from kiosk.config import Settings, with_overrides
    from sync.pull import remote_config, station_overrides

    assert station_overrides(store) == {} and remote_config(store) is None
    server.documents[protocol.CONFIG_PATH] = {
        "venue_id": "1",
        "venue_name": "Nhà sách Fahasa",
        "kiosk_id": "7",
        "mode": "entry",
        "capacity": 120,
        "cooldown_seconds": 30,
        "accepted_credentials": ["cccd", "dcc"],
        "questionnaire_policy": "require",
        "safety": {"level": "yellow", "assessed_on": "2026-11-20"},
        "extra": {"closing_time": "22:00", "not_a_station_setting": 1},
    }
    assert pull_all(store, Transport(server.url, TOKEN)).ok
    assert remote_config(store).safety_level == "yellow"  # type: ignore[union-attr]
    station = with_overrides(Settings(), "station", station_overrides(store)).station
    assert (station.mode, station.capacity, station.cooldown_seconds) == ("entry", 120, 30)
    assert station.accepted_credentials == ("cccd", "dcc") and station.questionnaire == "always"
    assert station.venue_name == "Nhà sách Fahasa" and station.closing_time == "22:00"


def test_two_batches_on_the_wire_save_round_trips(tmp_path: Path, server: ImitationServer) -> None:
    timings = {}
    for in_flight in (1, 2):
        with Store.open(tmp_path / f"kiosk{in_flight}.sqlite3") as kiosk_store:
            bulk_load(kiosk_store, make_events(400, prefix=str(in_flight)), outbox_state="pending")
            with FaultProxy(server.url) as proxy:
                proxy.delay_s = 0.25  # a slow link
                client = client_for(kiosk_store, proxy.url, batch_size=100, max_in_flight=in_flight)
                started = time.monotonic()
                report = client.drain()
                timings[in_flight] = time.monotonic() - started
                client.close()
            assert report.ok and (report.batches, report.stored, report.pending_left) == (4, 400, 0)
    assert timings[1] >= 1.0 and timings[2] < 0.75 * timings[1], timings
    assert len(server.stored_uuids()) == 800


def test_after_a_failure_no_new_batch_is_sent_but_those_on_the_wire_are_settled(
    store: Store, server: ImitationServer
) -> None:
    bulk_load(store, make_events(500), outbox_state="pending")
    with FaultProxy(server.url) as proxy:
        # The first batch fails, slowly enough that the second is surely on the wire by then, even on a busy CI.
        proxy.add(Fault("status", status=500, seconds=0.5))
        report = client_for(store, proxy.url, batch_size=100, max_in_flight=2).drain()
        posts = proxy.entries()
    assert report.error is not None and report.error.status == 500
    # The fault hits whichever batch reaches the proxy first. If that is the second one, the first succeeds
    # and a third is claimed before the failure is known (it is answered only 0.5 s later): 2 or 3 posts.
    failed = [post for post in posts if post.status == 500]
    assert len(failed) == 1 and len(posts) in (2, 3), posts
    assert all(post.at < failed[0].at + 0.45 for post in posts), "a batch was sent after the failure was known"
    stored = 100 * (len(posts) - 1)  # every batch on the wire but the failed one is settled by its answer
    assert report.stored == stored and report.released == 100
    assert store.outbox_counts() == {"pending": 500 - stored, "sent": 0, "acknowledged": stored}


def test_tls_is_verified_and_a_private_ca_can_be_trusted(tmp_path: Path, store: Store) -> None:
    from tests.support.sync_servers import make_tls_files

    ca, cert, key = make_tls_files(tmp_path)
    uuids = record(store, 20)
    with ImitationServer(tmp_path / "server.sqlite3", tls=(cert, key)) as https:
        assert https.url.startswith("https://")
        refused = client_for(store, https.url).drain()  # the system's CAs do not know this one
        assert refused.error is not None and refused.error.kind == "tls" and not refused.error.retryable
        assert store.outbox_counts()["pending"] == 20
        report = client_for(store, https.url, ca_file=str(ca)).drain()
    assert report.ok and sorted(https.stored_uuids()) == sorted(uuids)


# --- answers that do not match the batch ------------------------------------------------------------------------


def test_answers_match_by_uuid_value_not_spelling(store: Store, server: ImitationServer) -> None:
    """A server that answers with upper-case uuids: every event is acknowledged once, nothing resent."""
    uuids = record(store, 120)
    server.answer_spelling = str.upper
    report = client_for(store, server.url, batch_size=50).drain()
    assert report.ok, report.error
    assert (report.stored, report.released, report.pending_left) == (120, 0, 0)
    assert set(server.arrivals().values()) == {1}  # each event posted exactly once
    assert store.outbox_counts() == {"pending": 0, "sent": 0, "acknowledged": 120}
    assert sorted(server.stored_uuids()) == sorted(uuids)
    assert canonical_uuid(uuids[0].upper()) == uuids[0] == canonical_uuid(uuids[0].replace("-", ""))
    assert canonical_uuid("not a uuid") == "not a uuid"


def test_an_answer_naming_an_event_twice_counts_it_once(store: Store, server: ImitationServer) -> None:
    uuids = record(store, 10)
    original = server.ingest

    def doubled(body: bytes) -> protocol.BatchResult:
        result = original(body)
        return protocol.BatchResult(result.server_time, result.results + result.results[:3])

    server.ingest = doubled  # type: ignore[method-assign]
    report = client_for(store, server.url).drain()
    assert (report.stored, report.acknowledged, report.pending_left) == (10, 10, 0)
    assert sorted(server.stored_uuids()) == sorted(uuids)


def test_a_server_that_keeps_leaving_events_out_is_backed_off_not_hammered(
    tmp_path: Path, server: ImitationServer
) -> None:
    """A missing result is a protocol error: the batch is released, the drain stops, the worker backs off;
    the events the server never answers for stay pending (never falsely acknowledged), the rest go through."""
    db = tmp_path / "kiosk.sqlite3"
    with Store.open(db) as scans:
        uuids = record(scans, 40)
        server.silent_uuids = set(uuids[:2])  # in the first batch, never answered
        once = client_for(scans, server.url, batch_size=10, max_in_flight=1).drain()
        assert once.batches == 1 and once.error is not None and "did not answer for 2" in once.error.message
        assert scans.outbox_counts() == {"pending": 32, "sent": 0, "acknowledged": 8}
        worker = SyncWorker(
            lambda: Store.open(db),
            server.url,
            TOKEN,
            batch_size=10,
            max_in_flight=1,
            interval_s=0.01,
            backoff_base_s=0.2,
            backoff_cap_s=0.4,
            rng=lambda: 1.0,
        )
        worker.start()
        try:
            time.sleep(1.5)
            status = worker.status()
        finally:
            worker.stop()
        posts = [r for r in server.requests if r[0] == "POST"]
        # each round sends one batch (it fails at once): at most one per back-off (>= 0.2 s), not hundreds
        assert len(posts) <= 1 + 1 + 1.5 / 0.2, len(posts)
        assert status.last_error is not None and "did not answer" in status.last_error
        assert (status.next_attempt_in_s or 0) >= 0.2
        with sqlite3.connect(db) as conn:
            states = dict(conn.execute("SELECT e.uuid, o.state FROM events e JOIN outbox o ON o.seq = e.seq"))
        assert {states[uuid] for uuid in uuids[:2]} == {"pending"}  # never falsely acknowledged
        assert "sent" not in states.values()  # every failed batch was released
        assert list(states.values()).count("acknowledged") >= 16  # the others went through beside them
        server.silent_uuids = set()
        report = client_for(scans, server.url, batch_size=10).drain()
        assert report.ok and report.pending_left == 0
    assert sorted(server.stored_uuids()) == sorted(uuids)


# --- the real server --------------------------------------------------------------------------------------------


def test_drain_and_resend_against_the_real_server(store: Store, real_server: LiveServer) -> None:
    venue = real_server.add_venue("Chợ Bến Thành")
    token = real_server.enroll(venue)
    uuids = record(store, 1203)
    client = SyncClient(store, real_server.url, token, batch_size=500, timeout=(2.0, 30.0))
    report = client.drain()
    assert report.ok, report.error
    assert (report.batches, report.stored, report.pending_left) == (3, 1203, 0)
    assert sorted(real_server.stored_uuids(venue)) == sorted(uuids)
    more = record(store, 30, prefix="later ")
    with FaultProxy(real_server.url) as proxy:  # the server stores, then the answer is lost: resent, duplicate
        proxy.add(Fault("status_after", status=500))
        lost = SyncClient(store, proxy.url, token, batch_size=500).drain()
        assert lost.error is not None and lost.error.status == 500 and lost.pending_left == 30
        again = SyncClient(store, proxy.url, token, batch_size=500).drain()
    assert (again.duplicate, again.stored, again.pending_left) == (30, 0, 0)
    stored = real_server.stored_uuids(venue)
    assert len(stored) == len(set(stored)) and sorted(stored) == sorted(uuids + more)
    assert clock.load(store) is not None and abs(clock.load(store).offset_s) < 5  # type: ignore[union-attr]


def test_pull_against_the_real_server(store: Store, real_server: LiveServer) -> None:
    from sync.pull import remote_config

    venue = real_server.add_venue("Nhà sách Fahasa")
    client = SyncClient(store, real_server.url, real_server.enroll(venue))
    first = client.pull()
    assert first.outcomes.get("config") == "updated", first.outcomes
    assert remote_config(store).venue_name == "Nhà sách Fahasa"  # type: ignore[union-attr]
    second = client.pull(["config"])
    assert second.outcomes == {"config": "unchanged"}  # the real server's ETag: 304
    assert first.clock_offset_s is not None and abs(first.clock_offset_s) < 5


def test_cli_enroll_and_sync_once_against_the_real_server(tmp_path: Path, real_server: LiveServer) -> None:
    import subprocess

    from tests.support.sync_servers import ROOT, _env

    venue = real_server.add_venue("Quán cà phê")
    config, db = tmp_path / "kiosk.toml", tmp_path / "kiosk.sqlite3"
    enrolled = subprocess.run(
        [
            *_sync_command()[:-1],
            "enroll",
            "--server",
            real_server.url,
            "--code",
            real_server.add_kiosk(venue),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=_env(),
    )
    assert enrolled.returncode == 0, enrolled.stderr
    with Store.open(db) as scans:
        uuids = record(scans, 42)
    done = subprocess.run(
        _sync_command("--once", "--config", str(config), "--db", str(db)),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=_env(),
    )
    assert "sent 42, acknowledged 42 (stored 42, duplicate 0, refused 0), pending left 0" in done.stdout, done.stderr
    assert "pull:" in done.stdout
    assert sorted(real_server.stored_uuids(venue)) == sorted(uuids)


def test_the_server_may_set_only_the_allowed_station_settings(
    store: Store, server: ImitationServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A server (or whoever controls it) cannot turn retention off, move the venue's clock or accept any QR."""
    from kiosk.config import Settings, with_overrides
    from sync.pull import station_overrides

    server.documents[protocol.CONFIG_PATH] = {
        "venue_id": "1",
        "venue_name": "Bệnh viện Chợ Rẫy",
        "kiosk_id": "7",
        "extra": {"retention_days": 0, "timezone": "UTC", "accept_unknown": True, "closing_time": "21:30"},
    }
    with caplog.at_level(logging.WARNING, logger="sync"):
        assert pull_all(store, Transport(server.url, TOKEN)).ok
        station = with_overrides(Settings(), "station", station_overrides(store)).station
    assert (station.retention_days, station.timezone, station.accept_unknown) == (21, "Asia/Ho_Chi_Minh", False)
    assert station.closing_time == "21:30"  # an allowed one still applies
    assert "accept_unknown, retention_days, timezone" in caplog.text


def test_plain_http_to_another_machine_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    from sync.enroll import EnrollError, enroll

    config = tmp_path / "kiosk.toml"
    with pytest.raises(EnrollError, match="plain http"):
        enroll("http://192.0.2.10:8000", "ABCD-EFGH", config)  # TEST-NET-1: nothing is ever sent there
    assert not config.exists()


def test_a_refused_token_is_said_and_scans_go_on_being_kept(tmp_path: Path, server: ImitationServer) -> None:
    """A revoked (or expired) kiosk token: the status says so for the status bar, nothing is lost, and once the
    kiosk has a good token again the warning goes."""
    db = tmp_path / "kiosk.sqlite3"
    with Store.open(db) as scans:
        record(scans, 5)
        worker = SyncWorker(lambda: Store.open(db), server.url, "revoked-token", timeout=(1.0, 2.0), interval_s=0.2)
        worker.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not worker.status().token_refused:
                time.sleep(0.05)
            assert worker.status().token_refused and worker.status().pending == 5
            record(scans, 3, prefix="later")  # the door keeps working offline
            assert scans.pending_count() == 8
        finally:
            worker.stop()
        good = SyncWorker(lambda: Store.open(db), server.url, TOKEN, timeout=(1.0, 2.0), interval_s=0.2)
        good.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and good.status().last_success is None:
                time.sleep(0.05)
            assert not good.status().token_refused and scans.pending_count() == 0
        finally:
            good.stop()
