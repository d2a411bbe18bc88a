"""While PostgreSQL is down (stopped with `-m immediate`, as after a crash) the gateway answers every
read and write 503 problem+json with Retry-After, promptly even under a crowd of requests: never a
dropped connection, never a 500. A request whose connection breaks under it is answered the same way.
Nothing it accepted is lost, and the desk serves again once PostgreSQL is back.

This test stops PostgreSQL: run it only on infrastructure of its own (deploy/local/with-infra.sh).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.client import eventually, headers, open_ticket, ticket_form
from tests.harness import Desk
from tests.infra import Control, Postgres

pytestmark = [pytest.mark.infra, pytest.mark.serial]  # stops the shared PostgreSQL

TENANT = "acme"
PROMPT = 10.0  # an answer within this, or a client gives up as the operator's did
CROWD = 120  # requests at once while the store is down: more than the API's worker threads


def assert_unavailable(reply: httpx.Response) -> None:
    assert reply.status_code == 503, f"{reply.request.method} {reply.request.url}: {reply.status_code} {reply.text}"
    assert reply.headers["content-type"].startswith("application/problem+json"), reply.headers
    assert int(reply.headers["Retry-After"]) >= 1


def requests(accepted: list[str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Reads and writes of every kind the gateway serves from its store or passes on."""
    comment = {"body": "Still down here", "public": True}
    return [
        ("GET", f"/v1/tickets/{accepted[0]}", None),
        ("GET", "/v1/tickets", None),
        ("POST", "/v1/tickets", ticket_form()),
        ("POST", f"/v1/tickets/{accepted[1]}/comments", comment),
        ("GET", "/v1/routing/groups", None),
    ]


async def crowd(base_url: str, count: int, kinds: list[tuple[str, str, dict[str, Any] | None]]) -> list[Any]:
    """`count` requests at once, each within PROMPT: the replies, or the errors of those that got none."""
    async with httpx.AsyncClient(base_url=base_url, timeout=PROMPT) as client:

        async def one(n: int) -> httpx.Response:
            method, path, body = kinds[n % len(kinds)]
            keyed = headers(TENANT) | ({"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {})
            return await client.request(method, path, json=body, headers=keyed)

        return await asyncio.gather(*(one(n) for n in range(count)), return_exceptions=True)


def opening_while(control: Control, base_url: str) -> tuple[list[str], list[Any]]:
    """Open tickets, eight at a time, and stop PostgreSQL under them: the tickets whose opening was
    acknowledged, and every other answer (or error) seen."""
    acknowledged: list[str] = []
    others: list[Any] = []
    killer = threading.Timer(1.0, control.kill)
    killer.start()
    deadline, slowest = time.monotonic() + 4.0, 0.0
    while time.monotonic() < deadline:
        started = time.monotonic()
        batch = asyncio.run(crowd(base_url, 8, [("POST", "/v1/tickets", ticket_form())]))
        slowest = max(slowest, time.monotonic() - started)
        for reply in batch:
            if isinstance(reply, httpx.Response) and reply.status_code == 201:
                acknowledged.append(reply.json()["id"])
            else:
                others.append(reply)
    killer.join()
    print(f"the slowest eight openings around PostgreSQL's stop were all answered in {slowest:.1f}s")
    return acknowledged, others


def test_the_gateway_answers_503_with_retry_after_while_postgres_is_down_and_serves_again_after(
    desk: Desk, postgres: Postgres
) -> None:
    control = postgres.control
    if control is None:
        pytest.fail("this run does not control PostgreSQL (its address is set from outside): cannot stop it")
    desk.service("routing", "api").start()
    api = desk.service("intake", "api").start()
    who = headers(TENANT)
    with httpx.Client(base_url=api.url, timeout=PROMPT) as client:
        group = {"tier": 1, "strategy": "least_loaded", "default": True}
        assert client.put("/v1/routing/groups/general", json=group, headers=who).status_code == 200
        accepted = [open_ticket(client, TENANT) for _ in range(3)]
    try:
        acknowledged, broken = opening_while(control, api.url)
        for reply in broken:  # under way when PostgreSQL stopped, or sent after
            assert isinstance(reply, httpx.Response), f"no answer: {reply!r}"
            assert_unavailable(reply)
        started = time.monotonic()
        replies = asyncio.run(crowd(api.url, CROWD, requests(accepted)))
        took = time.monotonic() - started
        print(f"{CROWD} requests while PostgreSQL was down answered in {took:.1f}s")
        for reply in replies:
            assert isinstance(reply, httpx.Response), f"no answer: {reply!r}"
            assert_unavailable(reply)
    finally:
        control.start()

    with httpx.Client(base_url=api.url, timeout=PROMPT) as client:
        eventually(
            lambda: client.post("/v1/tickets", json=ticket_form(), headers=who),
            lambda reply: reply.status_code == 201, timeout=60, every=1.0,
        )  # fmt: skip
        for ticket_id in accepted + acknowledged:
            assert client.get(f"/v1/tickets/{ticket_id}", headers=who).status_code == 200, ticket_id
        for reply in asyncio.run(crowd(api.url, 10, requests(accepted))):
            assert isinstance(reply, httpx.Response), reply
            assert reply.status_code in (200, 201), reply.text
