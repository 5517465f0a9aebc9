"""Tracing: stays from entries and exits, co-visitors with a margin, missing exits; JSON, API and CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.events import Direction
from server import admin
from server.auth import Principal
from server.ingest import ingest
from server.tracing import Scan, TraceSettings, pair_stays, trace, trace_json
from sync import protocol
from tests.support.server_env import ServerEnv, make_event

DAY = datetime(2021, 9, 1, tzinfo=UTC)
SUBJECT = "079095000001"


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


def scan(person: str, direction: str, hour: float) -> Scan:
    return Scan(person, person, person, None, direction, at(hour), "cccd")


def test_pairing_rules() -> None:
    settings = TraceSettings(default_stay=timedelta(hours=2), max_stay=timedelta(hours=12))
    stays = pair_stays(1, [scan("a", "exit", 11), scan("a", "entry", 10)], settings)  # any order
    assert [(s.start, s.end, s.end_inferred) for s in stays] == [(at(10), at(11), False)]
    two_entries = pair_stays(1, [scan("b", "entry", 10), scan("b", "entry", 10.5), scan("b", "exit", 11)], settings)
    assert sorted((s.start, s.end, s.end_inferred) for s in two_entries) == [
        (at(10), at(10.5), True),  # closed by the next entry, not by the default length
        (at(10.5), at(11), False),
    ]
    orphan_exit = pair_stays(1, [scan("c", "exit", 11)], settings)
    assert [(s.start, s.end, s.start_inferred) for s in orphan_exit] == [(at(9), at(11), True)]
    too_long = pair_stays(1, [scan("d", "entry", 1), scan("d", "exit", 20)], settings)
    assert sorted((s.start, s.end) for s in too_long) == [(at(1), at(3)), (at(18), at(20))]
    no_exit = pair_stays(1, [scan("e", "entry", 10)], TraceSettings(default_stay=timedelta(minutes=30)))
    assert [(s.start, s.end, s.end_inferred) for s in no_exit] == [(at(10), at(10.5), True)]


def _store(env: ServerEnv, venue_id: int, visits: list[tuple[str, float | None, float | None]]) -> None:
    """visits: (id_number, entry hour or None, exit hour or None), stored with a zero clock offset."""
    kiosk_id, _ = admin.add_kiosk(env.engine, venue_id)
    events = []
    for id_number, entry, exit_ in visits:
        if entry is not None:
            events.append(make_event(id_number=id_number, wall_time=at(entry), name=f"Người {id_number[-2:]}"))
        if exit_ is not None:
            events.append(
                make_event(
                    id_number=id_number, wall_time=at(exit_), direction=Direction.EXIT, name=f"Người {id_number[-2:]}"
                )
            )
    now = datetime.now(UTC)
    batch = protocol.Batch(kiosk_time=now, events=tuple(events))
    result = ingest(env.engine, batch, Principal("kiosk", venue_id, kiosk_id), now)
    assert {r.status for r in result.results} == {"stored"}


@pytest.fixture
def scene(env: ServerEnv) -> tuple[ServerEnv, int, int]:
    venue_a, venue_b = env.venue_id, admin.add_venue(env.engine, "Quán cà phê B")
    _store(
        env,
        venue_a,
        [
            (SUBJECT, 10, 11),
            ("079095000011", 10.5, 12),  # overlaps 30 min
            ("079095000012", 11 + 10 / 60, 11.5),  # starts 10 min after the subject left: inside the 15-min margin
            ("079095000013", 11 + 20 / 60, 12),  # 20 min after: outside the margin
            ("079095000014", 8.5, None),  # no exit: 2 h default -> 08:30-10:30, overlaps 30 min
            ("079095000015", 7, None),  # no exit: 07:00-09:00, long gone
            ("079095000017", None, 10 + 20 / 60),  # exit only: inferred 08:20-10:20
        ],
    )
    _store(
        env,
        venue_b,
        [
            ("079095000016", 10, 11),  # same time, other venue: not a contact
            (SUBJECT, 14, None),  # the subject forgot to check out at B: 14:00-16:00
            ("079095000018", 15.5, 17),
        ],
    )
    return env, venue_a, venue_b


def _contacts(visit) -> dict[str, float]:  # noqa: ANN001
    return {c.id_number: shared.total_seconds() / 60 for c, shared in visit.contacts}


def test_co_visitors_with_margin_missing_exits_and_other_venues(scene: tuple[ServerEnv, int, int]) -> None:
    env, venue_a, venue_b = scene
    with env.engine.connect() as conn:
        visits = trace(conn, SUBJECT, at(0), at(24))
    assert [(v.venue_id, v.start, v.end, v.end_inferred) for v in visits] == [
        (venue_a, at(10), at(11), False),
        (venue_b, at(14), at(16), True),
    ]
    assert _contacts(visits[0]) == {"079095000011": 30, "079095000012": 0, "079095000014": 30, "079095000017": 20}
    assert _contacts(visits[1]) == {"079095000018": 30}


def test_margin_and_default_stay_are_settings(scene: tuple[ServerEnv, int, int]) -> None:
    env, _, _ = scene
    with env.engine.connect() as conn:
        no_margin = trace(conn, SUBJECT, at(0), at(24), TraceSettings(margin=timedelta(0)))
        short_default = trace(conn, SUBJECT, at(0), at(24), TraceSettings(default_stay=timedelta(minutes=30)))
        wide = trace(conn, SUBJECT, at(0), at(24), TraceSettings(margin=timedelta(minutes=30)))
    assert set(_contacts(no_margin[0])) == {"079095000011", "079095000014", "079095000017"}
    assert "079095000014" not in _contacts(short_default[0])  # 08:30-09:00 now
    assert short_default[1].end == at(14.5)  # the subject's own missing exit too
    assert "079095000013" in _contacts(wide[0])


def test_window_selects_visits(scene: tuple[ServerEnv, int, int]) -> None:
    env, _, venue_b = scene
    with env.engine.connect() as conn:
        afternoon = trace(conn, SUBJECT, at(13), at(18))
        late = trace(conn, SUBJECT, at(15.5), at(18))  # the open stay (14:00-16:00) still overlaps
        evening = trace(conn, SUBJECT, at(17), at(23))
        nobody = trace(conn, "000000000000", at(0), at(24))
    assert [v.venue_id for v in afternoon] == [venue_b] and [v.venue_id for v in late] == [venue_b]
    assert evening == [] and nobody == []


def test_trace_over_http_json_and_csv(scene: tuple[ServerEnv, int, int]) -> None:
    env, venue_a, _ = scene
    authority = admin.add_user(env.engine, "authority")
    query = {"id_number": SUBJECT, "from": at(0).isoformat(), "to": at(24).isoformat()}
    report = env.client.get("/api/v1/trace", params=query, headers=env.headers(authority)).json()
    assert [v["venue_id"] for v in report["visits"]][0] == venue_a
    assert report["visits"][0]["venue_name"] == "Phở Hà Nội"
    assert report["contact_count"] == 5
    names = {c["full_name"] for v in report["visits"] for c in v["contacts"]}
    assert "Người 11" in names
    narrow = env.client.get("/api/v1/trace", params={**query, "margin_minutes": 0}, headers=env.headers(authority))
    assert narrow.json()["contact_count"] == 4
    csv_answer = env.client.get("/api/v1/trace", params={**query, "format": "csv"}, headers=env.headers(authority))
    lines = csv_answer.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("venue_id,venue_name,visit_start") and len(lines) == 1 + 5


def test_trace_json_rounds_and_counts(scene: tuple[ServerEnv, int, int]) -> None:
    env, _, _ = scene
    with env.engine.connect() as conn:
        settings = TraceSettings()
        report = trace_json(conn, SUBJECT, at(9), at(12), settings, trace(conn, SUBJECT, at(9), at(12), settings))
    assert len(report["visits"]) == 1 and report["margin_minutes"] == 15 and report["default_stay_minutes"] == 120
    assert {c["overlap_minutes"] for c in report["visits"][0]["contacts"]} == {30, 0, 20}
