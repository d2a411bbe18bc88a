"""Rate limits per API key and per user: a token bucket each, refilled continuously.

Kept in the gateway's memory: with several gateway replicas each enforces the limit on
the requests it receives (the Ingress spreads them), which bounds a caller at replicas x
limit. Services behind the gateway do not count again.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from services.chassis.problems import DomainProblem


class RateLimited(DomainProblem):
    status = 429
    title = "Too many requests"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.extra["retry_after"])}


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None, most_callers: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else per_minute)
        self.most_callers = most_callers
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, caller: str, now: float | None = None) -> None:
        """Spend one request of `caller`'s allowance, or raise RateLimited with the wait in seconds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(caller)
            if bucket is None:
                if len(self._buckets) >= self.most_callers:
                    self._buckets.clear()  # a flood of one-off callers: start afresh rather than grow
                bucket = self._buckets[caller] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens < 1.0:
                wait = math.ceil((1.0 - bucket.tokens) / self.rate) if self.rate else 60
                raise RateLimited(
                    f"more than {round(self.rate * 60)} requests a minute; retry in {wait} s",
                    rule="rate_limit",
                    retry_after=wait,
                )
            bucket.tokens -= 1.0
