"""Tickets under concurrency and under tampering, against real PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg
import pytest

from tests.client import headers, ticket_form
from tests.harness import Desk
from tests.infra import Postgres

Json = dict[str, Any]


def connect(desk: Desk, postgres: Postgres) -> psycopg.Connection[Any]:
    return postgres.connect(desk.settings.postgres_dbname)


async def open_concurrently(url: str, count: int, **extra_headers: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, headers=(headers("acme") | extra_headers), timeout=30) as client:
        return await asyncio.gather(*(client.post("/v1/tickets", json=ticket_form()) for _ in range(count)))


def test_fifty_simultaneous_retries_of_one_request_open_one_ticket(desk: Desk) -> None:
    gateway = desk.service("intake", "api").start()

    replies = asyncio.run(open_concurrently(gateway.url, 50, **{"Idempotency-Key": "web-form-submit-17"}))

    assert all(r.status_code in (200, 201) for r in replies), [r.text for r in replies if r.status_code >= 300]
    assert len({r.json()["id"] for r in replies}) == 1
    assert sum(r.status_code == 201 for r in replies) == 1


def test_two_hundred_simultaneous_tickets_get_numbers_without_gaps_in_order_of_allocation(desk: Desk) -> None:
    gateway = desk.service("intake", "api").start()

    replies = asyncio.run(open_concurrently(gateway.url, 200))

    assert all(r.status_code == 201 for r in replies)
    opened = sorted((r.json() for r in replies), key=lambda t: t["position"])
    sequence = [int(t["number"].rsplit("-", 1)[1]) for t in opened]
    assert sequence == list(range(1, 201))


def test_of_two_simultaneous_edits_on_one_version_one_wins_and_one_is_refused(desk: Desk) -> None:
    gateway = desk.service("intake", "api").start()
    ticket = httpx.post(f"{gateway.url}/v1/tickets", json=ticket_form(), headers=headers("acme")).json()

    async def edit_both() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(base_url=gateway.url, headers=(headers("acme") | {"If-Match": '"1"'})) as client:
            return await asyncio.gather(
                client.patch(f"/v1/tickets/{ticket['id']}", json={"priority": "P1", "reason": "outage"}),
                client.patch(f"/v1/tickets/{ticket['id']}", json={"priority": "P4", "reason": "cosmetic"}),
            )

    replies = asyncio.run(edit_both())

    assert sorted(r.status_code for r in replies) == [200, 412]


def test_an_event_edited_behind_the_services_back_is_caught(desk: Desk, postgres: Postgres) -> None:
    gateway = desk.service("intake", "api").start()
    api = httpx.Client(base_url=gateway.url, headers=headers("acme"))
    ticket = api.post("/v1/tickets", json=ticket_form(category="refund-100")).json()
    api.post(f"/v1/tickets/{ticket['id']}/start-work", json={"reason": "on it"})
    assert api.get(f"/v1/tickets/{ticket['id']}/verify").json()["intact"] is True

    with connect(desk, postgres) as db:
        db.execute("ALTER TABLE intake_events DISABLE TRIGGER intake_events_append_only")  # a DBA, not the service
        db.execute(  # the title is sealed: the DBA changes what they can read, the category
            "UPDATE intake_events SET state = convert_to(replace(convert_from(state, 'UTF8'), 'refund-100',"
            " 'refund-900'), 'UTF8') WHERE originator_id = %s AND originator_version = 1",
            (ticket["id"],),
        )

    report = api.get(f"/v1/tickets/{ticket['id']}/verify").json()
    assert report["intact"] is False
    assert report["broken_at"]["version"] == 1
    assert "does not match its hash" in report["broken_at"]["reason"]
    assert api.get("/v1/audit/verify").json()["broken_at"]["ticket_id"] == ticket["id"]


def test_an_event_deleted_behind_the_services_back_is_caught(desk: Desk, postgres: Postgres) -> None:
    gateway = desk.service("intake", "api").start()
    api = httpx.Client(base_url=gateway.url, headers=headers("acme"))
    ticket = api.post("/v1/tickets", json=ticket_form()).json()
    for reason in ("on it", "still on it"):
        api.patch(f"/v1/tickets/{ticket['id']}", json={"tags_add": [f"t{len(reason)}"], "reason": reason})

    with connect(desk, postgres) as db:
        db.execute("ALTER TABLE intake_events DISABLE TRIGGER intake_events_append_only")
        db.execute("DELETE FROM intake_events WHERE originator_id = %s AND originator_version = 2", (ticket["id"],))

    report = api.get(f"/v1/tickets/{ticket['id']}/verify").json()
    assert report["intact"] is False
    assert report["broken_at"]["reason"] == "version 2 is missing"


def test_the_event_store_refuses_to_rewrite_history(desk: Desk, postgres: Postgres) -> None:
    gateway = desk.service("intake", "api").start()
    ticket = httpx.post(f"{gateway.url}/v1/tickets", json=ticket_form(), headers=headers("acme")).json()

    with connect(desk, postgres) as db:
        for statement in ("UPDATE intake_events SET state = state", "DELETE FROM intake_events"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                db.execute(f"{statement} WHERE originator_id = %s", (ticket["id"],))
