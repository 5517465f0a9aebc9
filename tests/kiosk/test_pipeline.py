"""The pipeline on a real SQLite store: typed payloads, frames, assisted entries, checkouts, a failing disk."""

from __future__ import annotations

import contextlib
import random
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from kiosk.config import Settings
from kiosk.credentials.base import Credential
from kiosk.demo import demo_people
from kiosk.events import Direction
from kiosk.pipeline import build_pipeline
from kiosk.rules import Outcome
from kiosk.sources.base import Frame
from kiosk.store import Store
from tests.support.media import frame_with_code

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def pipeline(store):
    return build_pipeline(Settings(), store)


@pytest.fixture(scope="module")
def people():
    return demo_people(4, seed=5)


def test_typed_payload_is_decided_and_recorded(pipeline, store, people):
    result = pipeline.process_payload(people[0].payload.encode(), NOW)
    assert result.outcome is Outcome.ENTRY and result.event is not None
    assert store.last_event(people[0].id_number).uuid == result.event.uuid
    assert store.occupancy() == 1 and store.pending_count() == 1
    again = pipeline.process_payload(people[0].payload.encode(), NOW + timedelta(seconds=5))
    assert again.outcome is Outcome.DUPLICATE and again.event is None
    assert store.count_events() == 1


def test_frames_need_steady_presentation(pipeline, store, people):
    frame = frame_with_code(people[1].payload)
    first = pipeline.process_frame(Frame(frame, 0, 0.0), NOW)
    second = pipeline.process_frame(Frame(frame, 1, 1 / 15), NOW)
    third = pipeline.process_frame(Frame(frame, 2, 2 / 15), NOW)
    assert first == [] and len(second) == 1 and third == []  # stable_frames = 2, then held: no repeat
    assert second[0].outcome is Outcome.ENTRY and second[0].code is not None
    assert store.count_events() == 1


def test_evaluate_writes_nothing_until_commit(pipeline, store, people):
    evaluation = pipeline.evaluate(people[2].payload.encode(), NOW)
    assert evaluation.decision.outcome is Outcome.ENTRY and store.count_events() == 0
    result = pipeline.commit(evaluation, flags=("symptoms",), details={"fever": True})
    assert result.event.flags == ("symptoms",) and result.event.details == {"fever": True}
    assert store.count_events() == 1


def test_rejection_is_not_recorded(pipeline, store):
    result = pipeline.process_payload(b"https://example.com/menu", NOW)
    assert result.outcome is Outcome.REJECTED and result.decision.reason
    assert store.count_events() == 0


def test_full_venue(store, people):
    pipeline = build_pipeline(Settings(), store)
    pipeline.policy = replace(pipeline.policy, capacity=2)
    outcomes = [pipeline.process_payload(p.payload.encode(), NOW).outcome for p in people[:3]]
    assert outcomes == [Outcome.ENTRY, Outcome.ENTRY, Outcome.FULL]
    assert store.occupancy() == 2


def test_assisted_entry_and_manual_checkout(pipeline, store):
    visitor = Credential(kind="assisted", id_number="079203001234", full_name="Ngô Thị Bích")
    entered = pipeline.record_assisted(visitor, NOW, flags=("symptoms",), details={"phone": "0900000000"})
    assert entered.outcome is Outcome.ENTRY and entered.event.source == "assisted"
    assert "symptoms" in entered.event.flags
    left = pipeline.manual_checkout(visitor.person_key, NOW + timedelta(hours=1))
    assert left.outcome is Outcome.EXIT and left.event.source == "manual_checkout"
    assert pipeline.manual_checkout(visitor.person_key, NOW + timedelta(hours=2)) is None  # already out
    assert store.occupancy() == 0


def test_auto_checkout_at_closing_time_once(store, people):
    pipeline = build_pipeline(Settings(), store)
    pipeline.policy = replace(pipeline.policy, closing_time=time(22, 0), timezone="Asia/Ho_Chi_Minh")
    for person in people[:3]:
        pipeline.process_payload(person.payload.encode(), NOW)
    pipeline.process_payload(people[0].payload.encode(), NOW + timedelta(hours=2))  # leaves by themselves
    closing = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 22:00 in Hà Nội
    assert pipeline.auto_checkout_if_due(closing - timedelta(minutes=1)) == []
    results = pipeline.auto_checkout_if_due(closing)
    assert sorted(r.id_number for r in results) == sorted(p.id_number for p in people[1:3])
    assert all(r.event.source == "auto_checkout" and r.event.direction == Direction.EXIT for r in results)
    assert store.occupancy() == 0
    assert build_pipeline(Settings(), store).auto_checkout_if_due(closing + timedelta(minutes=5)) == []
    # Checked out by closing time, the visitor's own scan right after is a new entry, not a duplicate.
    back = pipeline.process_payload(people[1].payload.encode(), closing + timedelta(seconds=20))
    assert back.outcome is Outcome.ENTRY


def test_a_kiosk_off_at_closing_time_catches_up_in_the_morning(store, people):
    pipeline = build_pipeline(Settings(), store)
    pipeline.policy = replace(pipeline.policy, closing_time=time(22, 0), timezone="Asia/Ho_Chi_Minh")
    for person in people[:2]:
        pipeline.process_payload(person.payload.encode(), NOW)  # 15:00 local, then the kiosk is switched off
    morning = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 08:00 local the next day
    early = pipeline.process_payload(people[2].payload.encode(), morning - timedelta(minutes=30))
    restarted = build_pipeline(Settings(), store)
    restarted.policy = pipeline.policy
    checked_out = restarted.auto_checkout_if_due(morning)
    assert sorted(r.id_number for r in checked_out) == sorted(p.id_number for p in people[:2])
    assert all(r.event.wall_time == datetime(2026, 11, 25, 15, 0, tzinfo=UTC) for r in checked_out)
    assert [e.id_number for e in store.inside()] == [early.id_number]  # entered after closing: still inside


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 1 MiB file system (tmpfs), so that 'disk full' is the kernel's answer, not a stand-in."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_never_says_ok_and_loses_nothing(tiny_disk, people):
    store = Store.open(tiny_disk / "events.sqlite3")
    pipeline = build_pipeline(Settings(), store)
    filler = tiny_disk / "filler"
    with filler.open("wb", buffering=0) as out:  # fill the disk to the last byte
        with contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 4096)
    recorded, refused = [], []
    for index, person in enumerate(demo_people(200, seed=9)):
        result = pipeline.process_payload(person.payload.encode(), NOW + timedelta(minutes=index))
        (recorded if result.event is not None else refused).append(result)
    assert refused, "the disk never filled up: the test proves nothing"
    assert all(r.outcome is Outcome.REJECTED and r.decision.reason_code == "store_error" for r in refused)
    filler.unlink()  # space again: the station carries on, and every event it confirmed is there
    later = pipeline.process_payload(people[3].payload.encode(), NOW + timedelta(days=1))
    assert later.outcome is Outcome.ENTRY
    store.close()
    with Store.open(tiny_disk / "events.sqlite3") as reopened:
        kept = {event.uuid for event in reopened.events()}
    assert {r.event.uuid for r in recorded} | {later.event.uuid} == kept


def test_random_bytes_never_crash_the_pipeline(pipeline, store):
    rng = random.Random(4)
    for _ in range(300):
        result = pipeline.process_payload(rng.randbytes(rng.randrange(0, 400)), NOW)
        assert result.outcome in (Outcome.REJECTED, Outcome.ENTRY, Outcome.EXIT, Outcome.DUPLICATE)
