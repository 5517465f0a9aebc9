"""Occupancy, who is inside, entries per hour and per day, and the fleet's state: on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from kiosk.events import Direction
from server import admin
from server.fleet import KioskHealth, Reason, fleet_state
from server.models import kiosks
from server.occupancy import entries_per_day, entries_per_hour, inside_now, occupancy
from tests.support.server_env import ServerEnv, make_event

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def _at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=HCM).astimezone(UTC)


def _push(env: ServerEnv, *specs: tuple[str, Direction, str], token: str | None = None) -> None:
    """(id number, direction, local time) triples, pushed as one batch sent 'now' by a kiosk with a right clock."""
    events = [
        make_event(id_number=number, direction=direction, wall_time=_at(when), name=f"Người {number[-3:]}")
        for number, direction, when in specs
    ]
    answer = env.push(events, token=token, kiosk_time=datetime.now(UTC))
    assert answer.status_code == 200, answer.text


def test_who_is_inside_is_each_persons_last_event_being_an_entry(env: ServerEnv) -> None:
    today = datetime.now(HCM).date() - timedelta(days=1)  # yesterday: every time is in the past
    day = today.isoformat()
    _push(
        env,
        ("079095000001", Direction.ENTRY, f"{day}T09:00"),
        ("079095000001", Direction.EXIT, f"{day}T10:00"),  # came and went
        ("079095000002", Direction.ENTRY, f"{day}T09:30"),  # still inside
        ("079095000003", Direction.ENTRY, f"{day}T08:00"),
        ("079095000003", Direction.EXIT, f"{day}T08:30"),
        ("079095000003", Direction.ENTRY, f"{day}T11:00"),  # back again: inside
    )
    other_venue = admin.add_venue(env.engine, "Chợ Bến Thành")
    other_token, _ = env.new_kiosk(other_venue)
    _push(env, ("079095000009", Direction.ENTRY, f"{day}T09:00"), token=other_token)  # another venue's

    noon = _at(f"{day}T12:00")
    with env.engine.connect() as conn:
        assert occupancy(conn, env.venue_id, noon) == 2
        inside = inside_now(conn, env.venue_id, noon)
        assert [v.full_name for v in inside] == ["Người 002", "Người 003"]
        assert abs(inside[1].entered_at - _at(f"{day}T11:00")) < timedelta(seconds=30)  # corrected by the kiosk clock
        assert occupancy(conn, env.venue_id, _at(f"{day}T09:45")) == 2  # 001 and 002 then, not yet 003's return
        assert occupancy(conn, env.venue_id, noon + timedelta(hours=25)) == 0  # nobody is inside for ever
        assert occupancy(conn, other_venue, noon) == 1


def test_entries_per_hour_and_per_day_in_the_venues_time_zone(env: ServerEnv) -> None:
    yesterday = datetime.now(HCM).date() - timedelta(days=1)
    day, before = yesterday.isoformat(), (yesterday - timedelta(days=2)).isoformat()
    _push(
        env,
        ("079095000001", Direction.ENTRY, f"{day}T00:10"),  # 17:10 UTC the day before: local hour 0
        ("079095000002", Direction.ENTRY, f"{day}T09:05"),
        ("079095000003", Direction.ENTRY, f"{day}T09:55"),
        ("079095000003", Direction.EXIT, f"{day}T10:30"),  # exits are not entries
        ("079095000004", Direction.ENTRY, f"{day}T23:59"),
        ("079095000005", Direction.ENTRY, f"{before}T15:00"),
    )
    with env.engine.connect() as conn:
        hours = entries_per_hour(conn, env.venue_id, yesterday, HCM)
        week = entries_per_day(conn, env.venue_id, yesterday, HCM)
        in_utc = entries_per_hour(conn, env.venue_id, yesterday, ZoneInfo("UTC"))
    assert len(hours) == 24 and hours[0] == 1 and hours[9] == 2 and hours[23] == 1 and sum(hours) == 4
    assert [d for d, _ in week][-1] == yesterday and len(week) == 7
    assert (
        dict(week)[yesterday] == 4 and dict(week)[yesterday - timedelta(days=2)] == 1 and sum(n for _, n in week) == 5
    )
    assert in_utc[2] == 2  # 09:xx in Ho Chi Minh City is 02:xx UTC: the same events, other hours


def test_the_fleet_lists_silent_kiosks_first_and_says_why_others_are_behind(env: ServerEnv) -> None:
    from sync import protocol

    now = datetime.now(UTC)
    fresh = {"config": 5.0, "keys": 5.0, "revocations": 5.0, "trust-list": 5.0}
    status = {"software_version": "0.1.0", "pending": 0, "refused": 1, "clock_offset_s": 0.2, "ages_s": fresh}

    def heartbeat(token: str, **changes: object) -> None:
        body = protocol.encode_batch([], now, {**status, **changes})
        answer = env.client.post(protocol.EVENTS_PATH, content=body, headers=env.headers(token))
        assert answer.status_code == 200, answer.text

    heartbeat(env.kiosk_token)  # kiosk 1: fine
    behind_token, behind_id = env.new_kiosk(env.venue_id)
    heartbeat(behind_token, pending=37, ages_s={**fresh, "trust-list": 4 * 86400.0})
    silent_token, silent_id = env.new_kiosk(env.venue_id)
    heartbeat(silent_token)
    with env.engine.begin() as conn:  # it last spoke two hours ago
        conn.execute(update(kiosks).where(kiosks.c.id == silent_id).values(last_seen_at=now - timedelta(hours=2)))
    waiting_id, _ = admin.add_kiosk(env.engine, env.venue_id, "Cổng sau")  # a code never used
    revoked_token, revoked_id = env.new_kiosk(env.venue_id)
    heartbeat(revoked_token)
    from server.token_admin import revoke_kiosk

    revoke_kiosk(env.engine, revoked_id, now)
    old_style = env.push([make_event()], token=behind_token)  # a kiosk from before the status: no report
    assert old_style.status_code == 200

    with env.engine.connect() as conn:
        fleet = fleet_state(conn, now + timedelta(seconds=1))
    order = [(s.kiosk_id, s.health) for s in fleet]
    assert order == [
        (waiting_id, KioskHealth.OFFLINE),  # never connected: silent the longest
        (silent_id, KioskHealth.OFFLINE),
        (behind_id, KioskHealth.BEHIND),
        (env.kiosk_id, KioskHealth.OK),
        (revoked_id, KioskHealth.REVOKED),
    ]
    by_id = {s.kiosk_id: s for s in fleet}
    assert by_id[behind_id].reasons == (Reason.BACKLOG, Reason.TRUST_LIST_STALE)
    assert by_id[behind_id].pending == 37  # the report without a status left the last one in place
    assert 4 * 86400 <= by_id[behind_id].trust_list_age_s <= 4 * 86400 + 60  # type: ignore[operator]
    assert by_id[silent_id].reasons == (Reason.SILENT,) and 7100 < by_id[silent_id].silent_s < 7300  # type: ignore[operator]
    ok = by_id[env.kiosk_id]
    assert (ok.software_version, ok.refused, ok.clock_offset_s, ok.reasons) == ("0.1.0", 1, 0.2, ())
    assert by_id[waiting_id].reasons == (Reason.NEVER_CONNECTED,) and not by_id[waiting_id].enrolled


def test_a_malformed_status_never_costs_the_events(env: ServerEnv) -> None:
    from sqlalchemy import select

    from server.models import kiosk_status
    from sync import protocol

    junk = {"software_version": "x" * 500, "pending": -3, "refused": True, "clock_offset_s": "soon", "ages_s": [1]}
    body = protocol.encode_batch([make_event()], datetime.now(UTC), junk)
    answer = env.client.post(protocol.EVENTS_PATH, content=body, headers=env.headers())
    assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "stored"
    with env.engine.connect() as conn:
        row = conn.execute(select(kiosk_status)).one()
    assert (row.software_version, row.pending, row.refused, row.clock_offset_ms, row.keys_fetched_at) == (
        None,
        None,
        None,
        None,
        None,
    )
