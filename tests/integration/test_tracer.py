"""Tracer: one ticket's whole journey, store -> relay -> Kafka -> analytics -> report."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.client import eventually, headers, ticket_form
from tests.harness import Desk


@pytest.mark.parametrize("store", ["postgres", "sqlite"])
def test_a_ticket_opened_over_http_appears_in_the_analytics_backlog(request: pytest.FixtureRequest, store: str) -> None:
    desk: Desk = request.getfixturevalue("desk" if store == "postgres" else "sqlite_desk")
    analytics = desk.service("analytics").start()
    desk.env["SERVICEDESK_ANALYTICS_URL"] = analytics.url
    gateway = desk.service("intake").start()

    reply = httpx.post(f"{gateway.url}/v1/tickets", json=ticket_form(priority="P1"), headers=headers("acme"))

    assert reply.status_code == 201, reply.text
    opened = reply.json()
    assert re.fullmatch(r"SD-\d{4}-000001", opened["number"])
    assert reply.headers["Location"] == f"/v1/tickets/{opened['id']}"

    def backlog() -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{gateway.url}/v1/reports/backlog", headers=headers("acme")).json()
        return answer

    report = eventually(backlog, lambda r: r.get("open") == 1, timeout=30)
    assert report["by_priority"] == {"P1": 1}
    assert report["by_status"] == {"new": 1}
    assert report["by_category"] == {"network": 1}
    other = httpx.get(f"{gateway.url}/v1/reports/backlog", headers=headers("globex")).json()
    assert other["open"] == 0, "a tenant sees only its own tickets"


def test_a_retried_request_with_the_same_idempotency_key_opens_one_ticket(desk: Desk) -> None:
    gateway = desk.service("intake", "api").start()
    key = {"Idempotency-Key": "mail-7f3a"}

    first = httpx.post(f"{gateway.url}/v1/tickets", json=ticket_form(), headers=(headers("acme") | key))
    again = httpx.post(f"{gateway.url}/v1/tickets", json=ticket_form(), headers=(headers("acme") | key))

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["number"] == again.json()["number"]


def test_the_gateway_publishes_one_openapi_document_for_every_service(desk: Desk) -> None:
    analytics = desk.service("analytics", "api").start()
    desk.env["SERVICEDESK_ANALYTICS_URL"] = analytics.url
    gateway = desk.service("intake", "api").start()

    def document() -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{gateway.url}/openapi.json").json()
        return answer

    spec = eventually(document, lambda d: "/v1/reports/backlog" in d["paths"], timeout=30)
    assert spec["openapi"].startswith("3.1")
    assert {"/v1/tickets", "/v1/tickets/{ticket_id}/history", "/v1/events"} <= spec["paths"].keys()
