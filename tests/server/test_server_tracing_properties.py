"""Tracing against a brute-force oracle: random stays (some without exits), random margins, real SQLite."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.events import Direction
from server import admin
from server.auth import Principal
from server.db import open_database
from server.ingest import ingest
from server.tracing import TraceSettings, trace
from sync import protocol
from tests.support.server_env import make_event

T0 = datetime(2021, 9, 1, tzinfo=UTC)
DEFAULT = 120  # minutes

# One person's visits: (gap before the entry, length, has an exit), in minutes.
visit = st.tuples(st.integers(1, 400), st.integers(1, 300), st.booleans())
person = st.lists(visit, min_size=1, max_size=3)


def stays_of(visits: list[tuple[int, int, bool]]) -> list[tuple[int, int | None]]:
    """(entry minute, exit minute or None), strictly increasing in time."""
    out, clock = [], 0
    for gap, length, has_exit in visits:
        entry = clock + gap
        out.append((entry, entry + length if has_exit else None))
        clock = entry + length
    return out


def expected_stays(stays: list[tuple[int, int | None]]) -> list[tuple[int, int]]:
    """What tracing must make of them: a missing exit lasts DEFAULT minutes, or until the next entry."""
    out = []
    for index, (entry, exit_) in enumerate(stays):
        if exit_ is None:
            following = stays[index + 1][0] if index + 1 < len(stays) else None
            exit_ = entry + DEFAULT if following is None else min(entry + DEFAULT, following)
        out.append((entry, exit_))
    return out


_counter = itertools.count()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    engine = open_database(f"sqlite:///{Path(tmp_path_factory.mktemp('prop')) / 's.db'}")
    yield engine
    engine.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=person, others=st.lists(person, max_size=6), margin=st.integers(0, 60))
def test_trace_matches_brute_force(engine, subject, others, margin) -> None:  # noqa: ANN001
    run = next(_counter)
    venue_id = admin.add_venue(engine, f"venue {run}")
    kiosk_id, _ = admin.add_kiosk(engine, venue_id)
    people = {f"9{run:05d}{i:06d}": stays_of(v) for i, v in enumerate([subject, *others])}
    subject_id = next(iter(people))
    events = []
    for id_number, stays in people.items():
        for entry, exit_ in stays:
            events.append(make_event(id_number, wall_time=T0 + timedelta(minutes=entry)))
            if exit_ is not None:
                events.append(make_event(id_number, Direction.EXIT, wall_time=T0 + timedelta(minutes=exit_)))
    now = datetime.now(UTC)
    ingest(engine, protocol.Batch(kiosk_time=now, events=tuple(events)), Principal("kiosk", venue_id, kiosk_id), now)

    settings_ = TraceSettings(default_stay=timedelta(minutes=DEFAULT), margin=timedelta(minutes=margin))
    with engine.connect() as conn:
        visits = trace(conn, subject_id, T0, T0 + timedelta(days=3), settings_)

    def minutes(moment: datetime) -> int:
        return round((moment - T0).total_seconds() / 60)

    mine = expected_stays(people[subject_id])
    assert [(minutes(v.start), minutes(v.end)) for v in visits] == mine
    for v, (start, end) in zip(visits, mine, strict=True):
        want = sorted(
            (id_number, s, e)
            for id_number, stays in people.items()
            if id_number != subject_id
            for s, e in expected_stays(stays)
            if s < end + margin and start < e + margin
        )
        got = sorted((c.id_number, minutes(c.start), minutes(c.end)) for c, _ in v.contacts)
        assert got == want
        for contact, shared in v.contacts:
            assert shared == max(timedelta(0), min(v.end, contact.end) - max(v.start, contact.start))
