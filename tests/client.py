"""A desk's gateway API, as a test (or a benchmark) calls it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from tests.tokens import token

T = TypeVar("T")


def ticket_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": "VPN drops every ten minutes",
        "description": "Since this morning the VPN disconnects.",
        "requester_id": "customer-42",
        "channel": "email",
        "category": "network",
        "type": "incident",
        "priority": "P2",
        "tags": ["vpn"],
    }
    return form | overrides


def headers(tenant: str, actor: str = "agent-7", roles: tuple[str, ...] = ("admin",)) -> dict[str, str]:
    """A person of `tenant` signed in: a bearer token from the test identity provider."""
    return {"Authorization": f"Bearer {token(tenant, actor, roles=roles)}"}


async def open_tickets(
    base_url: str,
    tenant: str,
    count: int,
    concurrency: int = 8,
    patience: float = 120.0,
    form: Callable[[int], dict[str, Any]] = lambda _: ticket_form(),
) -> list[str]:
    """Open `count` tickets (the i-th with `form(i)`), each with an idempotency key, retrying through outages."""
    ids: list[str] = []
    keys = iter((str(uuid.uuid4()), form(i)) for i in range(count))
    deadline = time.monotonic() + patience

    async def opener(client: httpx.AsyncClient) -> None:
        for key, body in keys:
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"opened {len(ids)} of {count} tickets in {patience}s")
                try:
                    reply = await client.post(
                        "/v1/tickets", json=body, headers=(headers(tenant) | {"Idempotency-Key": key})
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
                    continue
                if reply.status_code in (200, 201):
                    ids.append(reply.json()["id"])
                    break
                if reply.status_code == 429:  # a polite client waits as long as it is told
                    await asyncio.sleep(float(reply.headers.get("Retry-After", "1")))
                    continue
                if reply.status_code < 500:
                    raise AssertionError(f"{reply.status_code}: {reply.text}")
                await asyncio.sleep(0.2)

    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
        await asyncio.gather(*(opener(client) for _ in range(concurrency)))
    return ids


def eventually(probe: Callable[[], T], until: Callable[[T], bool], timeout: float = 60.0, every: float = 0.2) -> T:
    """Poll `probe` until `until(result)`; fail with the last result seen."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = probe()
        except Exception as error:  # noqa: BLE001 - retried until the deadline, then reported
            result = error  # type: ignore[assignment]
        else:
            if until(result):
                return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout}s; last seen: {result!r}")
        time.sleep(every)


def put_ok(client: httpx.Client, tenant: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT `body` and expect 200; the reply's JSON."""
    reply = client.put(path, json=body, headers=headers(tenant))
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


def open_ticket(client: httpx.Client, tenant: str, **form: Any) -> str:
    """Open one ticket (`ticket_form` with `form`'s changes); its id."""
    reply = client.post("/v1/tickets", json=ticket_form(**form), headers=headers(tenant))
    assert reply.status_code == 201, reply.text
    ticket_id: str = reply.json()["id"]
    return ticket_id


def read_ticket(client: httpx.Client, tenant: str, ticket_id: str) -> dict[str, Any]:
    result: dict[str, Any] = client.get(f"/v1/tickets/{ticket_id}", headers=headers(tenant)).json()
    return result


def what_if_job(client: httpx.Client, who: dict[str, str], body: dict[str, Any], timeout: float = 180) -> Any:
    """Start a what-if job at the gateway (`POST /v1/what-if`) and wait for it to end: the job, done."""
    started = client.post("/v1/what-if", json=body, headers=who)
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    assert location == f"/v1/what-if/{started.json()['job_id']}"
    assert location.startswith(f"/v1/what-if/{body['kind']}-")
    ended = ("done", "failed", "interrupted")
    job = eventually(lambda: client.get(location, headers=who).json(), lambda j: j.get("status") in ended,
                     timeout=timeout, every=0.5)  # fmt: skip
    assert job["status"] == "done", job
    return job


def addresses_of(client: httpx.Client, tenant: str, person_id: str) -> list[tuple[str, str]]:
    """A person's (channel, address) pairs: a customer signed in without an e-mail address is the person holding
    their chat address, the token's subject."""
    person = client.get(f"/v1/people/{person_id}", headers=headers(tenant)).json()
    return [(held["channel"], held["address"]) for held in person["addresses"]]
