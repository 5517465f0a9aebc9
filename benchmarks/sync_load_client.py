"""The load generator of bench_sync_load: kiosks syncing over raw HTTP/1.1 from several OS processes.

Each process runs one asyncio loop over its share of the kiosks. A sync is one POST of `sync.client`'s body (new
events with fresh uuids and the kiosk's status, `protocol.encode_batch`, gzip'd) behind the request line and headers
`sync.transport` (requests) sends, prebuilt per kiosk. Kiosks share a pool of keep-alive connections per process
(`connections`, opened up front and reused oldest first, so they spread over the server's workers), or open one
per sync (`fresh`, as a real kiosk does: the server closes a connection idle for 5 s, a kiosk syncs every 30 s).
Latency runs from taking a connection to the last byte of the answer; a request not answered within `timeout` s,
a non-2xx answer, a connection error, or an answer that did not store every event counts as an error, by kind.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import multiprocessing
import resource
import time
import uuid
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from kiosk.events import Direction, NewEvent
from sync import protocol
from sync.protocol_status import KioskStatus

IDLE_REUSE_S = 4.0  # a pooled connection idle longer is dropped: the server closes them after 5 s
NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Minh Dũng")


@dataclass(frozen=True)
class Plan:
    """What one client process runs: its kiosks' tokens and phases, and the shared schedule."""

    host: str
    port: int
    tokens: list[str]
    phases: list[float]  # seconds after `start_at` of each kiosk's first sync
    start_at: float  # wall clock (time.time()): the same instant in every process
    seconds: float
    period: float
    events: int
    connections: int
    fresh: bool
    timeout: float


@dataclass
class Outcome:
    """What one client process measured."""

    latencies: list[float] = field(default_factory=list)  # seconds, the 2xx answers
    errors: Counter[str] = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)  # seconds each request started after its planned time
    events_sent: int = 0
    stored: int = 0  # events the server answered "stored"
    cpu_s: float = 0.0
    wall_s: float = 0.0
    connections_opened: int = 0
    cpu_percent: list[float] = field(default_factory=list)  # per client process, of one core

    def merge(self, other: Outcome) -> None:
        self.latencies += other.latencies
        self.errors.update(other.errors)
        self.lags += other.lags
        self.events_sent += other.events_sent
        self.stored += other.stored
        self.connections_opened += other.connections_opened


class HttpError(Exception):
    """A failed exchange; `kind` is how it is counted."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = time.monotonic()

    def usable(self) -> bool:
        return not self.reader.at_eof() and time.monotonic() - self.idle_since < IDLE_REUSE_S

    def close(self) -> None:
        self.writer.close()


class Pool:
    """At most `limit` connections to the server; idle ones reused oldest first (they spread over the workers)."""

    def __init__(self, host: str, port: int, limit: int, fresh: bool) -> None:
        self.host, self.port, self.fresh = host, port, fresh
        self.slots = asyncio.Semaphore(limit)
        self.idle: deque[Connection] = deque()
        self.opened = 0

    async def warm(self, count: int) -> None:
        """Open `count` connections up front, so that keep-alive traffic is spread over the workers from the start."""
        for each in await asyncio.gather(*(self._open() for _ in range(count))):
            self.idle.append(each)

    async def _open(self) -> Connection:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise HttpError(f"connect: {type(exc).__name__}") from None
        self.opened += 1
        return Connection(reader, writer)

    async def take(self) -> Connection:
        await self.slots.acquire()
        while self.idle:
            each = self.idle.popleft()
            if each.usable():
                return each
            each.close()
        try:
            return await self._open()
        except BaseException:
            self.slots.release()
            raise

    def give_back(self, conn: Connection, reusable: bool) -> None:
        if reusable and not self.fresh:
            conn.idle_since = time.monotonic()
            self.idle.append(conn)
        else:
            conn.close()
        self.slots.release()


def request_head(host: str, port: int, token: str) -> bytes:
    """The request line and headers `sync.transport` (requests) sends, but Content-Length (added per request)."""
    return (
        f"POST {protocol.EVENTS_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: qr-checkpoint-kiosk/1\r\n"
        "Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
    ).encode()


def batch_body(count: int, serial: int) -> bytes:
    """`count` events never sent before, as the kiosk's sync client encodes and compresses them."""
    now = datetime.now(UTC)
    events = [
        NewEvent(
            direction=Direction.ENTRY if i % 2 == 0 else Direction.EXIT,
            credential="cccd",
            person_key=f"pk-079{serial % 10**9:09d}",
            id_number=f"079{serial % 10**9:09d}",
            full_name=NAMES[(serial + i) % len(NAMES)],
            date_of_birth=None,
            wall_time=now - timedelta(seconds=5 * (count - i)),
            monotonic_ns=time.monotonic_ns(),
            uuid=str(uuid.uuid4()),
        )
        for i in range(count)
    ]
    status = KioskStatus(software_version="bench", pending=0, refused=0, clock_offset_s=0.0, ages_s={}).to_json()
    return protocol.gzip_body(protocol.encode_batch(events, now, status))


async def exchange(conn: Connection, message: bytes) -> tuple[int, bytes, bool]:
    """Send one request, read its answer: (status, body, whether the connection may be reused)."""
    conn.writer.write(message)
    try:
        await conn.writer.drain()
        head = await conn.reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise HttpError(f"connection: {type(exc).__name__}") from None
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    try:
        body = await conn.reader.readexactly(int(headers.get("content-length", "0")))
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise HttpError(f"connection: {type(exc).__name__}") from None
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return status, body, headers.get("connection", "").lower() != "close"


async def one_sync(pool: Pool, head: bytes, plan: Plan, serial: int, out: Outcome) -> None:
    body = batch_body(plan.events, serial)
    message = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    out.events_sent += plan.events
    started = time.perf_counter()
    conn: Connection | None = None
    try:
        async with asyncio.timeout(plan.timeout):
            conn = await pool.take()
            status, answer, reusable = await exchange(conn, message)
    except TimeoutError:
        out.errors["timeout"] += 1
    except HttpError as exc:
        out.errors[exc.kind] += 1
    else:
        if not 200 <= status < 300:
            out.errors[f"http {status}"] += 1
        else:
            results = json.loads(answer)["results"]
            stored = sum(1 for each in results if each["status"] == protocol.EventStatus.STORED)
            out.stored += stored
            if stored == plan.events:
                out.latencies.append(time.perf_counter() - started)
            else:
                out.errors["answered, not all stored"] += 1
        pool.give_back(conn, reusable)
        return
    if conn is not None:
        pool.give_back(conn, False)  # an exchange cut short leaves the connection in an unknown state


async def kiosk_loop(pool: Pool, index: int, plan: Plan, out: Outcome, tasks: set[asyncio.Task[None]]) -> None:
    """One kiosk: a sync every period from its phase on, each in its own task (a slow answer delays no other)."""
    head = request_head(plan.host, plan.port, plan.tokens[index])
    planned = plan.start_at + plan.phases[index]
    end = plan.start_at + plan.seconds
    serial = index * 1_000_000
    while planned < end:
        await asyncio.sleep(max(0.0, planned - time.time()))
        out.lags.append(time.time() - planned)
        task = asyncio.create_task(one_sync(pool, head, plan, serial, out))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        serial += 1
        planned += plan.period


async def run_plan(plan: Plan) -> Outcome:
    out = Outcome()
    pool = Pool(plan.host, plan.port, plan.connections, plan.fresh)
    if not plan.fresh:
        await pool.warm(min(plan.connections, len(plan.tokens)))
    await asyncio.sleep(max(0.0, plan.start_at - time.time()))
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    tasks: set[asyncio.Task[None]] = set()
    await asyncio.gather(*(kiosk_loop(pool, i, plan, out, tasks) for i in range(len(plan.tokens))))
    if tasks:
        await asyncio.wait(set(tasks))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    out.cpu_s = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    out.wall_s = time.monotonic() - wall0
    out.connections_opened = pool.opened
    while pool.idle:
        pool.idle.popleft().close()
    return out


def raise_open_files(needed: int) -> int:
    """Raise the soft limit of open files to cover `needed` sockets (up to the hard limit); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed + 256 if hard == resource.RLIM_INFINITY else min(hard, needed + 256)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        return wanted
    return soft


def client_process(plan: Plan) -> Outcome:
    """The body of one client OS process."""
    raise_open_files(plan.connections if not plan.fresh else len(plan.tokens))
    return asyncio.run(run_plan(plan))


def run_load(
    url: str,
    tokens: list[str],
    *,
    period: float,
    seconds: float,
    procs: int = 2,
    events: int = 3,
    connections: int = 64,
    fresh: bool = False,
    timeout: float = 10.0,
) -> Outcome:
    """Every kiosk of `tokens` syncing every `period` s for `seconds`, from `procs` processes; merged outcome."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    step = period / max(1, len(tokens))
    phases = [i * step for i in range(len(tokens))]  # uniform over the period; dealt round-robin to processes
    start_at = time.time() + 2.0 + 0.002 * connections * procs  # every process ready, its pool warm
    base = Plan(host, int(port), [], [], start_at, seconds, period, events, connections, fresh, timeout)
    plans = [replace(base, tokens=tokens[p::procs], phases=phases[p::procs]) for p in range(procs)]
    with ThreadPoolExecutor(procs) as threads, multiprocessing.get_context("spawn").Pool(procs) as workers:
        outcomes = list(threads.map(lambda plan: workers.apply(client_process, (plan,)), plans))
    total = Outcome()
    for each in outcomes:
        total.merge(each)
    total.wall_s = max(each.wall_s for each in outcomes)
    total.cpu_percent = [round(100 * each.cpu_s / each.wall_s, 1) if each.wall_s else 0.0 for each in outcomes]
    return total
