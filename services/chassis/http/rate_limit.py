"""Rate limits per API key and per user: a token bucket each, refilled continuously.

Where the buckets live follows the store: on PostgreSQL (the shape that runs several gateway
replicas) in one table every replica updates, one UPSERT per request, so three replicas allow
the limit once, not three times; on the embedded SQLite default (one gateway process) in the
process's memory. The gateway tells every caller where it stands on every answer, a 429 too:
`RateLimit-Policy`/`RateLimit` (the IETF httpapi draft) and `X-RateLimit-Limit`/`-Remaining`/
`-Reset` (as GitHub and Zendesk send them). Services behind the gateway do not count again.
The table keeps no caller for long: every `FORGET_EVERY` requests a gateway deletes the buckets
idle for `IDLE_SECONDS` (full again by then, so a caller that comes back loses nothing).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.persistence import TrackingRecorder

from services.chassis.http.problems import DomainProblem
from services.chassis.runtime.settings import Settings
from services.chassis.runtime.thread_batches import ThreadBatches
from services.chassis.storage.views import SqlView

POLICY = "per-caller"
IDLE_SECONDS = 300.0  # a bucket idle this long is forgotten (if it takes longer to fill, once full)
FORGET_EVERY = 1000  # requests of one gateway process between two sweeps of the idle buckets
DESCRIPTION = """Every answer of the gateway to a caller with credentials says where the caller stands against
its rate limit (a token bucket per user and per API key, refilled continuously): `RateLimit-Policy:
"per-caller";q=<requests>;w=60` and `RateLimit: "per-caller";r=<remaining>;t=<seconds until full>` (the IETF
httpapi draft), and `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch seconds).
Over the limit: `429` problem+json with `Retry-After`, and the same headers."""


@dataclass(frozen=True)
class Allowance:
    """Where a caller stands after a request: `limit` a minute, `remaining` now, full again in
    `reset` seconds, and (when refused) the wait until one more request is allowed."""

    limit: int
    remaining: int
    reset: int
    retry_after: int = 0

    def headers(self) -> dict[str, str]:
        reset = max(self.reset, self.retry_after)
        return {
            "RateLimit-Policy": f'"{POLICY}";q={self.limit};w=60',
            "RateLimit": f'"{POLICY}";r={self.remaining};t={reset}',
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(time.time()) + reset),  # epoch seconds, as GitHub's
        }


class RateLimited(DomainProblem):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, allowance: Allowance, **extra: object) -> None:
        super().__init__(detail, rule="rate_limit", retry_after=allowance.retry_after, **extra)
        self.allowance = allowance

    def headers(self) -> dict[str, str]:
        return self.allowance.headers() | {"Retry-After": str(self.allowance.retry_after)}


class Limiter(Protocol):
    def take(self, caller: str) -> Allowance:
        """Spend one request of `caller`'s allowance, or raise RateLimited with the wait in seconds."""

    async def spend(self, caller: str) -> Allowance:
        """`take(caller)` from the event loop: on it in memory (a thread hop costs more than a bucket's
        arithmetic), off it when it waits on I/O."""


class _Bucket:
    """The arithmetic of one token bucket, shared by both keepers of buckets."""

    def __init__(self, per_minute: int, burst: int | None) -> None:
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else per_minute)

    def outcome(self, tokens: float, allowed: bool) -> Allowance:
        """After a request: `tokens` left in the bucket, `allowed` whether it took one (RateLimited if not)."""
        reset = math.ceil((self.capacity - tokens) / self.rate) if self.rate else 60
        if allowed:
            return Allowance(self.per_minute, math.floor(tokens), reset)
        wait = math.ceil((1.0 - tokens) / self.rate) if self.rate else 60
        allowance = Allowance(self.per_minute, 0, reset, retry_after=wait)
        raise RateLimited(f"more than {self.per_minute} requests a minute; retry in {wait} s", allowance)


@dataclass
class _Tokens:
    tokens: float
    updated: float


class RateLimiter(_Bucket):
    """Buckets in this process's memory: for one process (the embedded default, the mail intake)."""

    def __init__(self, per_minute: int, burst: int | None = None, most_callers: int = 100_000) -> None:
        super().__init__(per_minute, burst)
        self.most_callers = most_callers
        self._buckets: dict[str, _Tokens] = {}
        self._lock = threading.Lock()

    def take(self, caller: str, now: float | None = None) -> Allowance:
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(caller)
            if bucket is None:
                if len(self._buckets) >= self.most_callers:
                    self._buckets.clear()  # a flood of one-off callers: start afresh rather than grow
                bucket = self._buckets[caller] = _Tokens(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            allowed = bucket.tokens >= 1.0
            if allowed:
                bucket.tokens -= 1.0
            tokens = bucket.tokens
        return self.outcome(tokens, allowed)

    async def spend(self, caller: str) -> Allowance:
        return self.take(caller)


_TABLE = """CREATE TABLE IF NOT EXISTS gateway_rate_limits (
    caller TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    allowed BOOLEAN NOT NULL,
    updated TIMESTAMPTZ NOT NULL)"""

# Refill by the time since the last request (the database's clock: one for every replica), then
# take a token if there is one; a new caller starts with a full bucket less this request. One
# statement, a transaction of its own: a bucket is no record worth a disk flush (on a crash a caller
# at most gets back the last instants' tokens), so it turns synchronous commit off for its own commit.
_TAKE = """WITH unflushed AS (SELECT set_config('synchronous_commit', 'off', true))
    INSERT INTO gateway_rate_limits AS b (caller, tokens, allowed, updated)
    SELECT :caller, :capacity - 1, TRUE, now() FROM unflushed
    ON CONFLICT (caller) DO UPDATE SET (tokens, allowed, updated) = (
        SELECT CASE WHEN r.tokens >= 1 THEN r.tokens - 1 ELSE r.tokens END, r.tokens >= 1, now()
        FROM (SELECT LEAST(:capacity, b.tokens + EXTRACT(EPOCH FROM now() - b.updated) * :rate) AS tokens) AS r)
    RETURNING tokens, allowed"""
_FORGET = "DELETE FROM gateway_rate_limits WHERE updated < now() - make_interval(secs => :idle)"


class SharedRateLimiter(_Bucket):
    """Buckets in a PostgreSQL table that every gateway replica reads and writes."""

    def __init__(
        self, recorder: TrackingRecorder, per_minute: int, burst: int | None = None, forget_every: int = FORGET_EVERY
    ) -> None:
        super().__init__(per_minute, burst)
        self.view = SqlView(recorder, [_TABLE], name="gateway-rate-limits", version=1)
        self.forget_every = forget_every
        self.idle_seconds = max(IDLE_SECONDS, self.capacity / self.rate if self.rate else 0.0)
        self._requests = itertools.count(1)
        self._batches: ThreadBatches[str, Allowance] = ThreadBatches(self.take_all)

    def take(self, caller: str) -> Allowance:
        outcome = self.take_all([caller])[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def spend(self, caller: str) -> Allowance:
        """Takes asked for at once (a burst of requests) go to a thread together: one hop, one round trip."""
        return await self._batches(caller)

    def take_all(self, callers: Sequence[str]) -> list[Allowance | RateLimited]:
        """One request of each of `callers`, in order (a caller may come more than once): one round trip
        for all, no transaction around them. Every request through the gateway waits for this."""
        rows = self.view.statements(
            _TAKE, [{"caller": c, "capacity": self.capacity, "rate": self.rate} for c in callers]
        )
        for _ in callers:
            if next(self._requests) % self.forget_every == 0:
                self.forget_idle()
        return [self._outcome_of(row[0]) for row in rows]

    def _outcome_of(self, row: dict[str, Any]) -> Allowance | RateLimited:
        try:
            return self.outcome(float(row["tokens"]), bool(row["allowed"]))
        except RateLimited as refused:
            return refused

    def forget_idle(self) -> None:
        """Delete the buckets nobody used for `idle_seconds`: they are full, as a new one would be."""
        with self.view.transaction() as sql:
            sql.execute(_FORGET, {"idle": self.idle_seconds})


def gateway_limiter(settings: Settings, recorder: TrackingRecorder) -> Limiter:
    """Shared buckets on PostgreSQL (any number of gateway replicas), in memory on SQLite (one gateway)."""
    if settings.persistence == "postgres":
        return SharedRateLimiter(recorder, settings.rate_limit_per_minute)
    return RateLimiter(settings.rate_limit_per_minute)


def public_limiter(settings: Settings, recorder: TrackingRecorder) -> Limiter:
    """The gateway's limit of anonymous requests (the public knowledge base), per address."""
    if settings.persistence == "postgres":
        return SharedRateLimiter(recorder, settings.public_rate_limit_per_minute)
    return RateLimiter(settings.public_rate_limit_per_minute)
