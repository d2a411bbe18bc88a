"""The gateway's rate limit on real processes: two gateway replicas on one PostgreSQL count one
caller's requests together, and every answer (a 429 too) tells the caller where it stands."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from services.chassis.http.rate_limit import SharedRateLimiter
from services.chassis.storage.store import tracking_recorder
from tests.client import headers
from tests.harness import Desk
from tests.infra import Postgres

LIMIT = 6


def test_two_gateway_replicas_allow_a_caller_its_limit_once_not_twice(desk: Desk) -> None:
    desk.env["SERVICEDESK_RATE_LIMIT_PER_MINUTE"] = str(LIMIT)
    replicas = [desk.service("intake", "api").start(), desk.service("intake", "api").start()]
    busy = headers("acme", "busy-bot")
    with httpx.Client(timeout=10.0) as client:
        answers = [client.get(f"{replicas[i % 2].url}/v1/tickets", headers=busy) for i in range(LIMIT + 1)]
        calm = client.get(f"{replicas[1].url}/v1/tickets", headers=headers("acme", "calm-person"))

    assert [a.status_code for a in answers] == [200] * LIMIT + [429], "the replicas share one bucket"
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == [str(n) for n in range(LIMIT - 1, -1, -1)] + ["0"]
    for answer in answers:
        assert answer.headers["X-RateLimit-Limit"] == str(LIMIT)
        assert answer.headers["RateLimit-Policy"] == f'"per-caller";q={LIMIT};w=60'
        assert answer.headers["RateLimit"].startswith(f'"per-caller";r={answer.headers["X-RateLimit-Remaining"]};t=')
        assert int(answer.headers["X-RateLimit-Reset"]) > 0
    limited = answers[-1]
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["Retry-After"]) >= 1
    assert calm.status_code == 200, "another caller has an allowance of its own"
    assert calm.headers["X-RateLimit-Remaining"] == str(LIMIT - 1)


def test_the_embedded_gateway_limits_in_memory_and_says_so_on_every_answer(sqlite_desk: Desk) -> None:
    sqlite_desk.env["SERVICEDESK_RATE_LIMIT_PER_MINUTE"] = "2"
    gateway = sqlite_desk.service("intake", "api").start()
    with httpx.Client(base_url=gateway.url, timeout=10.0) as client:
        answers = [client.get("/v1/tickets", headers=headers("acme", "busy-bot")) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[-1].headers["RateLimit"].startswith('"per-caller";r=0;t=')


@pytest.fixture
def shared_limiter(postgres: Postgres) -> Iterator[SharedRateLimiter]:
    """The gateway's buckets on a fresh PostgreSQL database, swept every third request."""
    with postgres.fresh_settings() as settings:
        limiter = SharedRateLimiter(tracking_recorder(settings, "intake"), per_minute=LIMIT, forget_every=3)
        try:
            yield limiter
        finally:
            limiter.view.datastore.close()


def test_the_gateway_forgets_callers_idle_for_minutes_and_keeps_the_others(shared_limiter: SharedRateLimiter) -> None:
    for caller in ("gone-for-the-day", "busy-bot"):
        shared_limiter.take(caller)
    with shared_limiter.view.transaction() as sql:
        sql.execute("UPDATE gateway_rate_limits SET updated = now() - interval '10 minutes' WHERE caller = :caller",
                    {"caller": "gone-for-the-day"})  # fmt: skip
    assert shared_limiter.take("busy-bot").remaining == LIMIT - 2  # the third request: a sweep
    with shared_limiter.view.transaction() as sql:
        callers = [row["caller"] for row in sql.query("SELECT caller FROM gateway_rate_limits ORDER BY caller")]
    assert callers == ["busy-bot"]
    assert shared_limiter.take("gone-for-the-day").remaining == LIMIT - 1, "back with a full bucket"
