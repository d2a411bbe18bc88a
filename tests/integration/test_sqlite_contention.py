"""The embedded default (`make run`: SQLite stores, every service running) under a burst of
tickets: while the relay, the projector and the consumers write to the same database files, a
person's own requests (an erasure, a comment, an attachment) still answer 2xx, and no service
logs `database is locked`.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.client import headers, open_tickets, ticket_form
from tests.harness import Desk

TENANT = "acme"
BURST = 150


@pytest.fixture
def gateway(sqlite_desk: Desk) -> str:
    for name in ("routing", "sla", "analytics"):
        sqlite_desk.env[f"SERVICEDESK_{name.upper()}_URL"] = sqlite_desk.service(name).start().url
    return sqlite_desk.service("intake").start().url


async def people_writing(base_url: str, customers: list[str], started: asyncio.Event) -> list[str]:
    """Each customer's ticket gets a comment and a file, then the customer is erased: what each answered."""
    answers: list[str] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, headers=headers(TENANT)) as client:
        tickets = []
        for customer in customers:
            opened = await client.post("/v1/tickets", json=ticket_form(requester_id=customer))
            assert opened.status_code == 201, opened.text
            tickets.append(opened.json()["id"])
        started.set()
        await asyncio.sleep(1.0)  # the burst is under way
        for customer, ticket_id in zip(customers, tickets, strict=True):
            comment = await client.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "any news?", "public": True})
            attached = await client.post(
                f"/v1/tickets/{ticket_id}/attachments", params={"filename": "screen.txt"},
                content=f"a screenshot of {customer}".encode(), headers={"Content-Type": "text/plain"},
            )  # fmt: skip
            erased = await client.post(f"/v1/people/{customer}/erasure", json={"reason": "asked by phone"})
            answers += [f"comment {comment.status_code} {comment.text[:200]}",
                        f"attach {attached.status_code} {attached.text[:200]}",
                        f"erasure {erased.status_code} {erased.text[:200]}"]  # fmt: skip
            await asyncio.sleep(0.3)
    return answers


async def burst_and_people(base_url: str, customers: list[str]) -> list[str]:
    started = asyncio.Event()
    people = asyncio.create_task(people_writing(base_url, customers, started))
    await started.wait()
    await open_tickets(base_url, TENANT, BURST, concurrency=8)
    return await people


def test_a_persons_requests_succeed_while_the_background_writers_are_busy_on_sqlite(
    sqlite_desk: Desk, gateway: str
) -> None:
    customers = [f"c-{uuid.uuid4().hex[:10]}" for _ in range(6)]
    answers = asyncio.run(burst_and_people(gateway, customers))
    failed = [answer for answer in answers if not answer.split()[1].startswith("2")]
    assert failed == [], failed
    with httpx.Client(base_url=gateway, headers=headers(TENANT), timeout=20.0) as client:
        audit = client.get("/v1/audit/erasures").json()["erasures"]
    assert sorted(e["requester_id"] for e in audit if e["completed_at"]) == sorted(customers)
    locked = {
        service.log_path.name: [line for line in service.log_path.read_text(errors="replace").splitlines()
                                if "database is locked" in line.lower()][:3]
        for service in sqlite_desk.services
    }  # fmt: skip
    assert {name: lines for name, lines in locked.items() if lines} == {}
