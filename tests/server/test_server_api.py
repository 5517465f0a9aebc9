"""The central server's HTTP API through TestClient, on SQLite and on a throwaway PostgreSQL."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta

from kiosk.events import Direction
from server import admin
from sync import protocol, protocol_pull
from tests.support.server_env import ServerEnv, make_event


def test_batch_is_stored_once_and_resending_says_duplicate(env: ServerEnv) -> None:
    events = [make_event(id_number=f"07909500{i:04d}") for i in range(50)]
    first = env.push(events)
    assert first.status_code == 200, first.text
    result = protocol.decode_batch_result(first.content)
    assert [r.status for r in result.results] == ["stored"] * 50
    assert [r.uuid for r in result.results] == [e.uuid for e in events]
    again = protocol.decode_batch_result(env.push(events).content)
    assert {r.status for r in again.results} == {"duplicate"}
    assert sorted(env.stored(env.venue_id)) == sorted(e.uuid for e in events)


def test_partly_new_batch_and_repeat_inside_a_batch(env: ServerEnv) -> None:
    old = make_event()
    env.push([old])
    new = make_event(id_number="001200000001")
    result = protocol.decode_batch_result(env.push([old, new, new]).content)
    assert [r.status for r in result.results] == ["duplicate", "stored", "duplicate"]
    assert sorted(env.stored()) == sorted([old.uuid, new.uuid])


def test_gzip_body_is_accepted(env: ServerEnv) -> None:
    events = [make_event(id_number=f"0790950{i:05d}") for i in range(300)]
    body = protocol.gzip_body(protocol.encode_batch(events, datetime.now(UTC)))
    answer = env.client.post(
        protocol.EVENTS_PATH,
        content=body,
        headers={**env.headers(), "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    assert len(env.stored()) == 300


def test_stored_event_keeps_fields_and_corrected_time(env: ServerEnv) -> None:
    from sqlalchemy import select

    from server.models import events as table

    now = datetime.now(UTC)
    event = make_event(wall_time=now - timedelta(hours=1), flags=("id_mismatch",), details={"q": "không"})
    slow_kiosk_time = now - timedelta(minutes=10)  # the kiosk's clock is 10 minutes slow
    assert env.push([event], kiosk_time=slow_kiosk_time).status_code == 200
    with env.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.uuid == event.uuid)).one()
    assert row.wall_time == event.wall_time
    shift = row.corrected_time - row.wall_time
    assert timedelta(minutes=9, seconds=55) < shift < timedelta(minutes=10, seconds=5)
    assert row.full_name == "Nguyễn Văn An" and row.kiosk_id == env.kiosk_id and row.venue_id == env.venue_id
    assert json.loads(row.flags) == ["id_mismatch"] and json.loads(row.details) == {"q": "không"}


def test_text_fields_arrive_exactly_as_sent(env: ServerEnv) -> None:
    """Text travels to PostgreSQL newline-joined (server/ingest.py): empty values, one lone event, and what an
    array literal would mangle (quotes, braces, commas, backslashes, the word NULL) come back unchanged."""
    from sqlalchemy import select

    from server.models import events as table

    odd = ["", "NULL", 'say "hi"', "{a,b}", "back\\slash\\n", "Đặng Thị Lan", "  spaced  ", "'"]
    batches = [[make_event(id_number="", name="", person_key="pk-empty")]]
    batches.append([make_event(id_number=f"0790{i}", name=text, details={"note": text}) for i, text in enumerate(odd)])
    for batch in batches:
        assert env.push(batch).status_code == 200
    with env.engine.connect() as conn:
        rows = {row.uuid: row for row in conn.execute(select(table))}
    for event in [event for batch in batches for event in batch]:
        row = rows[event.uuid]
        assert (row.full_name, row.id_number, row.person_key) == (event.full_name, event.id_number, event.person_key)
        assert json.loads(row.details) == event.details and row.source == "scan" and row.direction == "entry"


def test_no_token_or_wrong_token_is_401_and_nothing_stored(env: ServerEnv) -> None:
    body = protocol.encode_batch([make_event()], datetime.now(UTC))
    assert env.client.post(protocol.EVENTS_PATH, content=body).status_code == 401
    wrong = env.client.post(protocol.EVENTS_PATH, content=body, headers=env.headers("qrck_kio_not-a-real-token"))
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    basic = env.client.post(protocol.EVENTS_PATH, content=body, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    assert env.client.get(protocol.CONFIG_PATH).status_code == 401
    assert env.stored() == []


def test_manager_token_cannot_push_events(env: ServerEnv) -> None:
    manager = admin.add_user(env.engine, "manager", env.venue_id)
    assert env.push([make_event()], token=manager).status_code == 403
    assert env.stored() == []


def test_event_claiming_another_venue_is_refused(env: ServerEnv) -> None:
    other_venue = admin.add_venue(env.engine, "Other")
    mine, foreign = make_event(), make_event(id_number="001200000002")
    body = protocol.batch_to_json([mine, foreign], datetime.now(UTC))
    body["events"][1]["venue_id"] = str(other_venue)
    body["events"][0]["venue_id"] = str(env.venue_id)  # naming its own venue is fine
    result = env.client.post(protocol.EVENTS_PATH, json=body, headers=env.headers()).json()
    assert [r["status"] for r in result["results"]] == ["stored", "refused"]
    assert "venue" in result["results"][1]["reason"]
    assert env.stored(other_venue) == [] and env.stored() == [mine.uuid]


def test_kiosk_writes_only_its_own_venue(env: ServerEnv) -> None:
    other_venue = admin.add_venue(env.engine, "Other")
    other_token, _ = env.new_kiosk(other_venue)
    event = make_event()
    env.push([event], token=other_token)
    assert env.stored(other_venue) == [event.uuid] and env.stored(env.venue_id) == []


def test_event_far_in_the_future_is_stored_flagged_after_clock_correction(env: ServerEnv) -> None:
    from sqlalchemy import select

    from server.models import events

    now = datetime.now(UTC)
    future = make_event(wall_time=now + timedelta(days=3))
    # A kiosk whose clock runs 3 days fast: after correction its event is "now", so it is stored unflagged.
    fast_clock = make_event(id_number="001200000003", wall_time=now + timedelta(days=3))
    answer = protocol.decode_batch_result(env.push([future]).content)
    assert answer.results[0].status == "stored"  # never refused: the kiosk would drop it
    stored = protocol.decode_batch_result(env.push([fast_clock], kiosk_time=now + timedelta(days=3)).content)
    assert stored.results[0].status == "stored"
    with env.engine.connect() as conn:
        rows = {r.uuid: r for r in conn.execute(select(events.c.uuid, events.c.clock_suspect, events.c.flags))}
    assert rows[future.uuid].clock_suspect and "clock_suspect" in json.loads(rows[future.uuid].flags)
    assert not rows[fast_clock.uuid].clock_suspect and json.loads(rows[fast_clock.uuid].flags) == []


def test_too_many_events_is_413_and_nothing_stored(env: ServerEnv) -> None:
    events = [make_event(id_number=f"0790950{i:05d}") for i in range(protocol.MAX_BATCH_EVENTS + 1)]
    assert env.push(events).status_code == 413
    assert env.stored() == []


def test_oversized_body_is_413(env: ServerEnv) -> None:
    event = protocol.event_to_json(make_event())
    event["details"] = {"blob": "x" * (protocol.MAX_BODY_BYTES + 10)}
    body = json.dumps({"protocol": 1, "kiosk_time": protocol.format_time(datetime.now(UTC)), "events": [event]})
    answer = env.client.post(protocol.EVENTS_PATH, content=body.encode(), headers=env.headers())
    assert answer.status_code == 413
    assert env.stored() == []


def test_gzip_bomb_is_413_without_inflating_it(env: ServerEnv) -> None:
    head = json.dumps({"protocol": 1, "kiosk_time": protocol.format_time(datetime.now(UTC)), "events": []})
    bomb = gzip.compress(head[:-1].encode() + b"," + b" " * (200 * 1024 * 1024) + b"}", compresslevel=9)
    assert len(bomb) < 300_000  # 200 MB of spaces squeezed into a few hundred kB
    answer = env.client.post(protocol.EVENTS_PATH, content=bomb, headers={**env.headers(), "Content-Encoding": "gzip"})
    assert answer.status_code == 413
    assert env.stored() == []


def test_malformed_json_and_schema_errors_are_422_and_store_nothing(env: ServerEnv) -> None:
    good = protocol.batch_to_json([make_event(), make_event(id_number="001200000004")], datetime.now(UTC))
    broken_event = json.loads(json.dumps(good))
    broken_event["events"][1]["direction"] = "sideways"
    wrong_version = {**good, "protocol": 99}
    no_time = {k: v for k, v in good.items() if k != "kiosk_time"}
    for body in (
        b"{not json",
        b"\xff\xfe",
        json.dumps(wrong_version).encode(),
        json.dumps(no_time).encode(),
        b"[]",
        b"[" * 100_000,
    ):
        answer = env.client.post(protocol.EVENTS_PATH, content=body, headers=env.headers())
        assert answer.status_code == 422, (body[:40], answer.status_code)
    bad_gzip = env.client.post(
        protocol.EVENTS_PATH, content=b"not gzip", headers={**env.headers(), "Content-Encoding": "gzip"}
    )
    assert bad_gzip.status_code == 422
    assert (
        env.client.post(
            protocol.EVENTS_PATH, content=b"{}", headers={**env.headers(), "Content-Encoding": "br"}
        ).status_code
        == 415
    )
    assert env.stored() == []
    # One malformed event is refused alone, with a reason; the rest of its batch is stored (issue 11 #6).
    answer = env.client.post(protocol.EVENTS_PATH, content=json.dumps(broken_event).encode(), headers=env.headers())
    assert answer.status_code == 200
    results = {r.uuid: (r.status, r.reason) for r in protocol.decode_batch_result(answer.content).results}
    first, second = (event["uuid"] for event in good["events"])
    assert results == {first: ("stored", None), second: ("refused", "direction: must be 'entry' or 'exit'")}
    assert env.stored() == [first]


def test_enrolment_code_works_once(env: ServerEnv) -> None:
    _, code = admin.add_kiosk(env.engine, env.venue_id)
    first = env.client.post(protocol.ENROLL_PATH, json={"code": code.lower()[:4] + "-" + code[4:]})
    assert first.status_code == 200
    answer = protocol_pull.EnrollResponse.from_json(first.json())
    assert answer.venue_id == str(env.venue_id) and answer.token
    assert env.client.post(protocol.ENROLL_PATH, json={"code": code}).status_code == 401
    assert env.client.post(protocol.ENROLL_PATH, json={"code": "WRONGCODE"}).status_code == 401
    assert env.client.get(protocol.CONFIG_PATH, headers=env.headers(answer.token)).status_code == 200


def test_expired_enrolment_code_is_refused(env: ServerEnv) -> None:
    _, code = admin.add_kiosk(env.engine, env.venue_id, ttl=timedelta(seconds=-1))
    assert env.client.post(protocol.ENROLL_PATH, json={"code": code}).status_code == 401


def test_reenrolment_revokes_the_old_token(env: ServerEnv) -> None:
    code = admin.reissue_enroll_code(env.engine, env.kiosk_id)
    new_token = env.client.post(protocol.ENROLL_PATH, json={"code": code}).json()["token"]
    assert env.client.get(protocol.CONFIG_PATH, headers=env.headers()).status_code == 401
    assert env.client.get(protocol.CONFIG_PATH, headers=env.headers(new_token)).status_code == 200


def test_config_has_etag_and_follows_manager_changes(env: ServerEnv) -> None:
    first = env.client.get(protocol.CONFIG_PATH, headers=env.headers())
    assert first.status_code == 200
    config = protocol_pull.RemoteConfig.from_json(first.json())
    assert config.venue_name == "Phở Hà Nội" and config.safety_level is None and config.kiosk_id == str(env.kiosk_id)
    etag = first.headers["etag"]
    unchanged = env.client.get(protocol.CONFIG_PATH, headers={**env.headers(), "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""

    manager = admin.add_user(env.engine, "manager", env.venue_id)
    put = env.client.put(
        f"/api/v1/venues/{env.venue_id}/safety",
        json={"level": "yellow", "assessed_on": "2021-10-20"},
        headers=env.headers(manager),
    )
    assert put.status_code == 200, put.text
    patch = env.client.patch(
        f"/api/v1/venues/{env.venue_id}/config", json={"capacity": 40, "mode": "entry"}, headers=env.headers(manager)
    )
    assert patch.status_code == 200, patch.text
    changed = env.client.get(protocol.CONFIG_PATH, headers={**env.headers(), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    config = protocol_pull.RemoteConfig.from_json(changed.json())
    assert (config.safety_level, config.safety_assessed_on) == ("yellow", date(2021, 10, 20))
    assert (config.capacity, config.mode) == (40, "entry")


def test_only_the_venues_manager_sets_its_safety_level(env: ServerEnv) -> None:
    other_venue = admin.add_venue(env.engine, "Other")
    other_manager = admin.add_user(env.engine, "manager", other_venue)
    authority = admin.add_user(env.engine, "authority")
    body = {"level": "red", "assessed_on": "2021-10-20"}
    url = f"/api/v1/venues/{env.venue_id}/safety"
    assert env.client.put(url, json=body, headers=env.headers(other_manager)).status_code == 403
    assert env.client.put(url, json=body, headers=env.headers()).status_code == 403  # a kiosk
    assert env.client.put(url, json=body, headers=env.headers(authority)).status_code == 403
    assert (
        env.client.put(
            url,
            json={"level": "purple", "assessed_on": "2021-10-20"},
            headers=env.headers(admin.add_user(env.engine, "manager", env.venue_id)),
        ).status_code
        == 422
    )
    assert (
        protocol_pull.RemoteConfig.from_json(
            env.client.get(protocol.CONFIG_PATH, headers=env.headers()).json()
        ).safety_level
        is None
    )


def test_keys_revocations_and_trust_list_with_etags(env: ServerEnv) -> None:
    import base64

    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from server.keys import import_public_key

    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    import_public_key(env.engine, "k1", "Ed25519", base64.b64encode(raw).decode())
    admin.add_revocation(env.engine, "person", "P-42")
    kid = admin.add_trusted_certificate(env.engine, b"0\x82fake-der")
    keys = env.client.get(protocol.KEYS_PATH, headers=env.headers())
    assert protocol_pull.keys_from_json(keys.json())[0].kid == "k1"
    revoked = env.client.get(protocol.REVOCATIONS_PATH, headers=env.headers())
    assert protocol_pull.revocations_from_json(revoked.json())[0].value == "P-42"
    trust = env.client.get(protocol.TRUST_LIST_PATH, headers=env.headers())
    certificate = protocol_pull.trust_list_from_json(trust.json())[0]
    assert certificate.kid == kid and base64.b64decode(certificate.certificate) == b"0\x82fake-der"
    for answer, path in (
        (keys, protocol.KEYS_PATH),
        (revoked, protocol.REVOCATIONS_PATH),
        (trust, protocol.TRUST_LIST_PATH),
    ):
        again = env.client.get(path, headers={**env.headers(), "If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304
    admin.add_revocation(env.engine, "person", "P-43")
    assert (
        env.client.get(
            protocol.REVOCATIONS_PATH, headers={**env.headers(), "If-None-Match": revoked.headers["etag"]}
        ).status_code
        == 200
    )


def test_time_endpoint(env: ServerEnv) -> None:
    answer = env.client.get(protocol.TIME_PATH)
    assert abs(protocol_pull.server_time_from_json(answer.json()) - datetime.now(UTC)) < timedelta(seconds=5)


def test_export_via_api_is_spreadsheet_safe(env: ServerEnv) -> None:
    env.push([make_event(name='=HYPERLINK("http://evil")'), make_event(id_number="001200000005", name="+1-2")])
    manager = admin.add_user(env.engine, "manager", env.venue_id)
    answer = env.client.get(f"/api/v1/venues/{env.venue_id}/export", headers=env.headers(manager))
    assert answer.status_code == 200
    text = answer.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("time,direction,credential,id_number,full_name,date_of_birth")
    assert "'=HYPERLINK" in text and "'+1-2" in text and "\n=" not in text and ",=" not in text
    other_manager = admin.add_user(env.engine, "manager", admin.add_venue(env.engine, "Other"))
    assert (
        env.client.get(f"/api/v1/venues/{env.venue_id}/export", headers=env.headers(other_manager)).status_code == 403
    )
    from server.console.audit import audit_entries

    with env.engine.connect() as conn:
        exports = [entry for entry in audit_entries(conn) if entry.action == "venue_export"]
    assert len(exports) == 1, "the export is audited once; the refused one is not an export"
    assert exports[0].result_count == 2 and exports[0].query == {"mode": "venue_export", "venue_id": env.venue_id}


def test_venue_summary_shows_kiosk_health(env: ServerEnv) -> None:
    env.push([make_event()], kiosk_time=datetime.now(UTC) - timedelta(minutes=3))
    authority = admin.add_user(env.engine, "authority")
    summary = env.client.get(f"/api/v1/venues/{env.venue_id}", headers=env.headers(authority)).json()
    assert summary["events"] == 1
    offset = summary["kiosks"][0]["last_clock_offset_ms"]
    assert 170_000 < offset < 190_000


def test_trace_needs_the_authority(env: ServerEnv) -> None:
    query = {"id_number": "079095001234", "from": "2021-01-01T00:00:00Z", "to": "2021-01-02T00:00:00Z"}
    manager = admin.add_user(env.engine, "manager", env.venue_id)
    assert env.client.get("/api/v1/trace", params=query).status_code == 401
    assert env.client.get("/api/v1/trace", params=query, headers=env.headers(manager)).status_code == 403
    authority = admin.add_user(env.engine, "authority")
    assert env.client.get("/api/v1/trace", params=query, headers=env.headers(authority)).json()["visits"] == []
    backwards = {**query, "to": "2020-12-01T00:00:00Z"}
    assert env.client.get("/api/v1/trace", params=backwards, headers=env.headers(authority)).status_code == 422


def test_revoked_user_token_is_refused(env: ServerEnv) -> None:
    authority = admin.add_user(env.engine, "authority")
    url = f"/api/v1/venues/{env.venue_id}"
    assert env.client.get(url, headers=env.headers(authority)).status_code == 200
    assert admin.revoke_token(env.engine, authority)
    assert env.client.get(url, headers=env.headers(authority)).status_code == 401


def test_entry_and_exit_directions_round_trip(env: ServerEnv) -> None:
    exit_event = make_event(direction=Direction.EXIT)
    assert protocol.decode_batch_result(env.push([exit_event]).content).results[0].status == "stored"
