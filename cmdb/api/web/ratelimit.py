"""Token-bucket rate limits: each caller may burst, then goes at a steady rate.

In memory, per process: the CMDB runs as one server process. Buckets that
have refilled are forgotten when the table grows, so a flood of distinct
callers cannot exhaust memory.
"""

from __future__ import annotations

import math
import time
from typing import Any

from cmdb.errors import RateLimitedError

MAX_KEYS = 50_000


class TokenBucket:
    """``rate`` requests per second for each key, with bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend ``cost`` for ``key``: 0 if allowed, else the seconds to wait before retrying."""
        if self.rate <= 0:
            return 0.0
        clock = time.monotonic()
        tokens, last = self._buckets.get(key, (self.burst, clock))
        tokens = min(self.burst, tokens + (clock - last) * self.rate)
        if tokens < cost:
            self._buckets[key] = (tokens, clock)
            return (cost - tokens) / self.rate
        if len(self._buckets) >= MAX_KEYS and key not in self._buckets:
            self._prune(clock)
        self._buckets[key] = (tokens - cost, clock)
        return 0.0

    def spend(self, key: str, message: str, *, say_when: bool = False) -> None:
        """:meth:`take` one token for ``key``, refusing with :class:`RateLimitedError` when
        it has none: ``{retry}`` in ``message`` becomes the seconds to wait, and
        ``say_when`` adds them to the error's details (``retryAfter``) too."""
        wait = self.take(key)
        if wait:
            seconds = retry_after(wait)
            details: dict[str, Any] = {"retryAfter": int(seconds)} if say_when else {}
            raise RateLimitedError(message.replace("{retry}", seconds), seconds, **details)

    def wait(self, key: str) -> float:
        """The seconds until ``key`` may spend again (0 if it may now), spending nothing."""
        if self.rate <= 0 or key not in self._buckets:
            return 0.0
        tokens, last = self._buckets[key]
        tokens = min(self.burst, tokens + (time.monotonic() - last) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def _prune(self, clock: float) -> None:
        full = [k for k, (t, last) in self._buckets.items()
                if t + (clock - last) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= MAX_KEYS:
            self._buckets.clear()


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
