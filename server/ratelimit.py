"""A per-client token bucket for the public (token-less) endpoints: one process, in memory.

Enough to stop one phone or script hammering the declaration endpoints or guessing enrolment codes; several
workers each keep their own buckets (the limit is then per worker). The client is the connection's address;
`X-Forwarded-For` is believed only from a configured proxy (`serve --trusted-proxy`), since anyone else could
write any address there and get a fresh bucket per request.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any


class TokenBucket:
    """`rate` requests per `per` seconds per key, bursts up to `rate`. `take(key)` -> 0 when allowed, else the
    seconds to wait (for Retry-After)."""

    def __init__(
        self, rate: int, per: float = 60.0, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.rate = rate
        self.per = per
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def wait(self, key: str) -> int:
        """Like `take` without spending: 0 when a request would be allowed, else the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.rate), now))
        tokens = min(float(self.rate), tokens + (now - at) * self.rate / self.per)
        return 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) * self.per / self.rate))

    def take(self, key: str) -> int:
        now = self.clock()
        refill = self.rate / self.per
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - at) * refill)
            if tokens >= 1:
                self._store(key, tokens - 1, now)
                return 0
            self._store(key, tokens, now)
            return max(1, math.ceil((1 - tokens) / refill))

    def _store(self, key: str, tokens: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            # Full: forget the buckets that have refilled (they are the same as no bucket at all).
            full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate / self.per >= self.rate]
            for k in full:
                del self._buckets[k]
            if len(self._buckets) >= self.max_keys:
                self._buckets.clear()
        self._buckets[key] = (tokens, now)


def _trusted(address: str, proxies: Sequence[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: Sequence[Any]) -> str:
    """Who the client is: the peer, unless the peer is a trusted proxy; then the nearest address in
    X-Forwarded-For that is not itself a trusted proxy (proxies append, so the left part is the client's say)."""
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:64]
    return hops[0][:64] if hops else peer
