"""The ingest gate: a burst waits for a slot instead of being refused; past the queue or the wait, GateFull; no
slot is ever lost, whatever happens to a waiter."""

from __future__ import annotations

import asyncio
import time

import pytest

from server.ingest_gate import GateFull, IngestGate
from tests.support.server_env import ServerEnv, make_event


async def _hold(gate: IngestGate, release: asyncio.Event, order: list[int], name: int) -> None:
    async with gate.slot():
        order.append(name)
        await release.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_burst_waits_for_slots_in_arrival_order() -> None:
    async def scenario() -> list[int]:
        gate, release, order = IngestGate(slots=2, queue=3, wait_s=5.0), asyncio.Event(), []
        tasks = [asyncio.create_task(_hold(gate, release, order, name)) for name in range(5)]
        await _settle()
        assert (gate.active, gate.waiting, order) == (2, 3, [0, 1])
        release.set()
        await asyncio.gather(*tasks)
        assert (gate.active, gate.waiting) == (0, 0)
        return order

    assert asyncio.run(scenario()) == [0, 1, 2, 3, 4]


def test_past_the_queue_a_batch_is_refused_at_once() -> None:
    async def scenario() -> None:
        gate, release = IngestGate(slots=1, queue=1, wait_s=5.0), asyncio.Event()
        holders = [asyncio.create_task(_hold(gate, release, [], name)) for name in range(2)]
        await _settle()
        started = asyncio.get_running_loop().time()
        with pytest.raises(GateFull):
            async with gate.slot():
                pass
        assert asyncio.get_running_loop().time() - started < 0.5
        release.set()
        await asyncio.gather(*holders)

    asyncio.run(scenario())


def test_a_wait_that_runs_out_is_refused_and_loses_no_slot() -> None:
    async def scenario() -> None:
        gate, release = IngestGate(slots=1, queue=4, wait_s=0.05), asyncio.Event()
        holder = asyncio.create_task(_hold(gate, release, [], 0))
        await _settle()
        with pytest.raises(GateFull):
            async with gate.slot():
                pass
        assert (gate.active, gate.waiting) == (1, 0)
        release.set()
        await holder
        assert gate.active == 0
        async with gate.slot():  # the slot is free again, at once
            assert gate.active == 1

    asyncio.run(scenario())


def test_a_waiter_that_goes_away_loses_no_slot() -> None:
    async def scenario() -> None:
        gate, release = IngestGate(slots=1, queue=4, wait_s=5.0), asyncio.Event()
        order: list[int] = []
        holder = asyncio.create_task(_hold(gate, release, order, 0))
        await _settle()
        gone = asyncio.create_task(_hold(gate, release, order, 1))
        after = asyncio.create_task(_hold(gate, release, order, 2))
        await _settle()
        gone.cancel()  # the kiosk hung up while its batch waited
        await _settle()
        assert gate.waiting == 1
        release.set()
        await asyncio.gather(holder, after)
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert order == [0, 2] and (gate.active, gate.waiting) == (0, 0)

    asyncio.run(scenario())


def test_a_waiter_cancelled_as_it_is_handed_a_slot_loses_no_slot() -> None:
    """Cancelled in the same turn as it is handed the slot, a waiter either gives the slot back or (Python 3.11's
    wait_for keeps a result that came with the cancellation) runs its batch and then frees it: never both, never
    neither."""

    async def scenario() -> None:
        gate, release, order = IngestGate(slots=1, queue=4, wait_s=5.0), asyncio.Event(), []
        first = gate.slot()
        await first.__aenter__()
        waiter = asyncio.create_task(_hold(gate, release, order, 1))
        await _settle()
        await first.__aexit__(None, None, None)  # hands the slot to the waiter...
        waiter.cancel()  # ...which is cancelled before it could run
        release.set()
        await asyncio.wait_for(asyncio.gather(waiter, return_exceptions=True), 5.0)
        assert order in ([], [1]) and (gate.active, gate.waiting) == (0, 0)
        async with gate.slot():
            assert gate.active == 1

    asyncio.run(scenario())


def test_the_slots_come_from_serve_in_every_worker() -> None:
    from server.cli import _serve_settings, build_parser
    from server.settings import INGEST_SLOTS, ServerSettings

    args = build_parser().parse_args(["serve", "--ingest-slots", "5"])
    assert _serve_settings(args).max_concurrent_ingests == 5
    assert ServerSettings.from_env({"QRCK_INGEST_SLOTS": "5"}).max_concurrent_ingests == 5  # `--workers N`
    assert ServerSettings.from_env({}).max_concurrent_ingests == INGEST_SLOTS
    assert ServerSettings(max_concurrent_ingests=20).pool_size == 20  # a connection per slot stays open
    assert ServerSettings(max_concurrent_ingests=2).pool_size == 8  # and a few for the other routes


def test_a_gate_needs_at_least_one_slot() -> None:
    with pytest.raises(ValueError):
        IngestGate(slots=0, queue=1, wait_s=1.0)


def test_the_sync_route_answers_503_with_retry_after_only_when_the_gate_is_full(env: ServerEnv) -> None:
    app = env.client.app
    busy = IngestGate(slots=1, queue=0, wait_s=5.0)
    busy.active = 1  # every slot taken, no queue: refused at once
    app.state.ingest_gate = busy  # type: ignore[attr-defined]
    refused = env.push([make_event("079095000001")])
    assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
    waited = IngestGate(slots=1, queue=1, wait_s=0.2)
    waited.active = 1  # a queue, but the slot never frees: refused once the wait runs out
    app.state.ingest_gate = waited  # type: ignore[attr-defined]
    started = time.monotonic()
    assert env.push([make_event("079095000002")]).status_code == 503
    assert time.monotonic() - started >= 0.2
    assert env.stored() == []  # nothing of a refused batch is stored: the kiosk keeps it and sends it again
    waited.active = 0
    assert env.push([make_event("079095000003")]).status_code == 200
    assert len(env.stored()) == 1 and waited.active == 0
