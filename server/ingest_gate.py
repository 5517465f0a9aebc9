"""How many kiosk batches one worker takes into the database at once, and what the others do meanwhile.

A fixed number of batches run at once (the pool keeps that many connections open, so a burst never opens new
ones); a bounded queue of further batches waits for a slot, each for at most a few seconds, in arrival order.
Only past that is a batch refused (503 + Retry-After, and the kiosk backs off). Refusing at the first busy
moment turned the ordinary bursts of 10,000 kiosks on a machine 68-98 % busy into 4-49 % errors
(docs/benchmarks.md, "Waiting instead of refusing").

One gate per worker process, used from its event loop only: no lock is needed. The waiters are futures of the
loop that awaits them, so the gate is not tied to one event loop (tests run apps on several in turn).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class GateFull(Exception):
    """Every slot is taken and the queue is full, or the wait for a slot ran out."""


class IngestGate:
    def __init__(self, slots: int, queue: int, wait_s: float) -> None:
        if slots < 1 or queue < 0 or wait_s < 0:
            raise ValueError("an ingest gate needs slots >= 1, queue >= 0 and wait_s >= 0")
        self.slots, self.queue, self.wait_s = slots, queue, wait_s
        self.active = 0  # batches holding a slot
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the body of the `async with`; GateFull when none comes in time."""
        await self._acquire()
        try:
            yield
        finally:
            self._release()

    async def _acquire(self) -> None:
        if self.active < self.slots and not self._waiters:
            self.active += 1
            return
        if len(self._waiters) >= self.queue:
            raise GateFull
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(handed)
        try:
            # shield: a timeout cancels the wait, never the future, so a slot handed over meanwhile is seen.
            await asyncio.wait_for(asyncio.shield(handed), self.wait_s)
        except TimeoutError:
            if not handed.done():
                raise GateFull from None
            # handed a slot just as the wait ran out: keep it
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self._release()  # the request went away (client gone) holding a slot it was just handed
            raise
        finally:
            if not handed.done():
                handed.cancel()
            if handed in self._waiters:
                self._waiters.remove(handed)

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to the next in line
                return
        self.active -= 1
