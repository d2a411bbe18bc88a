"""The gateway's rate limit on real processes: two gateway replicas on one PostgreSQL count one
caller's requests together, and every answer (a 429 too) tells the caller where it stands."""

from __future__ import annotations

import httpx

from tests.client import headers
from tests.harness import Desk

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
