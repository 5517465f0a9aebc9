"""A real `kiosk-server serve` process on 127.0.0.1, over SQLite and over a throwaway PostgreSQL."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from sync import protocol
from tests.support.postgres import LiveServer
from tests.support.server_env import make_event


def post_batch(server: LiveServer, token: str, events: list, compress: bool = True) -> httpx.Response:  # noqa: ANN001
    body = protocol.encode_batch(events, datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if compress:
        body, headers["Content-Encoding"] = protocol.gzip_body(body), "gzip"
    return httpx.post(server.url + protocol.EVENTS_PATH, content=body, headers=headers, timeout=30)


@pytest.mark.slow
def test_enrol_push_kill_restart_resend_exactly_once(
    live_server: Callable[..., LiveServer], server_db_url: str
) -> None:
    server = live_server(server_db_url)
    venue_id = server.add_venue("Siêu thị Co.op")
    token = server.enroll(venue_id)
    events = [make_event(id_number=f"0790950{i:05d}") for i in range(1200)]
    for start in range(0, 1200, 500):
        answer = post_batch(server, token, events[start : start + 500])
        assert answer.status_code == 200, answer.text
        assert {r.status for r in protocol.decode_batch_result(answer.content).results} == {"stored"}
    server.kill()  # SIGKILL: nothing graceful
    with pytest.raises(httpx.HTTPError):
        httpx.get(server.url + protocol.TIME_PATH, timeout=2)
    server.start()
    resent = protocol.decode_batch_result(post_batch(server, token, events[:500]).content)
    assert {r.status for r in resent.results} == {"duplicate"}
    stored = server.stored_uuids(venue_id)
    assert len(stored) == len(set(stored)) == 1200 and set(stored) == {e.uuid for e in events}


def test_live_security_answers(live_server: Callable[..., LiveServer], sqlite_url: str) -> None:
    server = live_server(sqlite_url)
    venue_id = server.add_venue()
    token = server.enroll(venue_id)
    url = server.url + protocol.EVENTS_PATH
    body = protocol.encode_batch([make_event()], datetime.now(UTC))
    assert httpx.post(url, content=body).status_code == 401
    assert httpx.post(url, content=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.post(url, content=b'{"protocol": 1, "events": [', headers=auth).status_code == 422
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))
    assert httpx.post(url, content=bomb, headers={**auth, "Content-Encoding": "gzip"}, timeout=30).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming
        yield b'{"protocol": 1, "kiosk_time": "2021-09-01T00:00:00+00:00", "events": [], "pad": "'
        for _ in range(6 * 1024):
            yield b"x" * 1024
        yield b'"}'

    assert httpx.post(url, content=chunks(), headers=auth, timeout=30).status_code == 413
    assert server.stored_uuids() == []


def test_access_log_has_no_id_numbers(live_server: Callable[..., LiveServer], sqlite_url: str) -> None:
    server = live_server(sqlite_url, "--log-level", "info")
    server.add_venue()
    authority = server.add_user("authority")
    answer = httpx.get(
        server.url + "/api/v1/trace",
        headers={"Authorization": f"Bearer {authority}"},
        params={"id_number": "079095987654", "from": "2021-09-01T00:00:00Z", "to": "2021-09-02T00:00:00Z"},
    )
    assert answer.status_code == 200 and json.loads(answer.content)["visits"] == []
    server.stop()
    log = server.log_path.read_text() if server.log_path else ""
    assert "/api/v1/trace" in log  # the request was logged...
    assert "079095987654" not in log  # ...without the ID number


@pytest.mark.slow
def test_racing_resends_across_workers_store_each_event_once(
    live_server: Callable[..., LiveServer], pg_url: str
) -> None:
    """Four senders push the same batches at once to two uvicorn workers: one "stored" per event, no double rows."""
    from concurrent.futures import ThreadPoolExecutor

    server = live_server(pg_url, "--workers", "2")
    venue_id = server.add_venue()
    token = server.enroll(venue_id)
    events = [make_event(id_number=f"0790950{i:05d}") for i in range(900)]
    batches = [events[i : i + 300] for i in range(0, 900, 300)]

    def sender(_: int) -> list[protocol.EventResult]:
        results: list[protocol.EventResult] = []
        for batch in batches:
            answer = post_batch(server, token, batch)
            assert answer.status_code == 200, answer.text
            results.extend(protocol.decode_batch_result(answer.content).results)
        return results

    with ThreadPoolExecutor(4) as pool:
        answers = [r for results in pool.map(sender, range(4)) for r in results]
    stored = [r.uuid for r in answers if r.status == "stored"]
    assert sorted(stored) == sorted(e.uuid for e in events)  # each event "stored" exactly once overall
    assert {r.status for r in answers} <= {"stored", "duplicate"}
    rows = server.stored_uuids(venue_id)
    assert len(rows) == len(set(rows)) == 900


@pytest.mark.slow
def test_database_outage_is_503_with_retry_after_then_recovers(
    live_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """PostgreSQL stops under a running server: kiosks get 503 + Retry-After (not 500), and nothing is lost after."""
    from tests.support.postgres import PgCluster, require_pg_bin

    cluster = PgCluster(require_pg_bin()).start()  # its own cluster: this test stops it
    try:
        server = live_server(cluster.create_database())
        venue_id = server.add_venue()
        token = server.enroll(venue_id)
        before, during = make_event(), make_event(id_number="001200000009")
        assert post_batch(server, token, [before]).status_code == 200
        cluster.pause()
        down = post_batch(server, token, [during])
        assert down.status_code == 503 and int(down.headers["retry-after"]) > 0
        cluster.resume()
        for _ in range(50):  # the pool notices the restart on its next checkout
            again = post_batch(server, token, [during])
            if again.status_code == 200:
                break
        assert again.status_code == 200
        assert sorted(server.stored_uuids(venue_id)) == sorted([before.uuid, during.uuid])
    finally:
        cluster.stop()
