"""A per-client token bucket for the public (token-less) endpoints: one process, in memory.

Enough to stop one phone or script hammering the declaration endpoints; several workers each keep their own
buckets (the limit is then per worker), and a proxy in front should pass the client address (`proxy_headers`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


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
