"""Who answers the requester, and what a ticket may wait for, end to end on real Kafka and
PostgreSQL: only the desk's staff meet a response target, and a ticket cannot be set to
wait until a time already past."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.client import eventually, headers, open_ticket, put_ok, read_ticket
from tests.harness import Desk
from tests.tokens import token

TENANT = "acme"
ORGANISATION = "acme-logistics"


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    desk.service("sla").start()
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=10.0) as client:
        yield client


def comment(client: httpx.Client, ticket_id: str, who: dict[str, str], body: str) -> None:
    reply = client.post(f"/v1/tickets/{ticket_id}/comments", json={"body": body, "public": True}, headers=who)
    assert reply.status_code == 201, reply.text


def first_response(client: httpx.Client, ticket_id: str) -> dict[str, Any]:
    metric: dict[str, Any] = read_ticket(client, TENANT, ticket_id)["sla"]["first_response"]
    return metric


def test_a_colleague_of_the_requester_does_not_meet_the_first_response(gateway: httpx.Client) -> None:
    urgent = {"match": {"priorities": ["P1"]}, "targets": {"first_response": "PT4S", "resolution": "PT1H"}}
    put_ok(gateway, TENANT, "/v1/sla/policies/urgent", urgent)
    ticket_id = open_ticket(gateway, TENANT, priority="P1", requester_id="customer-42", organisation=ORGANISATION)
    eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: "first_response" in t["sla"], timeout=30)
    colleague = {"Authorization": f"Bearer {token(TENANT, 'customer-43', ('customer',), organisation=ORGANISATION)}"}
    comment(gateway, ticket_id, colleague, "Same here, the VPN drops for our whole floor.")
    # Had the colleague answered, the target would be met well inside its 4 s; it burns instead.
    burned = eventually(
        lambda: first_response(gateway, ticket_id), lambda m: m["breached"] or m["state"] == "met", timeout=30
    )
    assert (burned["state"], burned["breached"]) == ("running", True), "the colleague's comment answered nothing"
    comment(gateway, ticket_id, headers(TENANT, "agent-7", roles=("agent",)), "Looking into it now.")
    met = eventually(lambda: first_response(gateway, ticket_id), lambda m: m["state"] == "met", timeout=30)
    assert met["breached"] is True
    kinds = [c["author_kind"] for c in read_ticket(gateway, TENANT, ticket_id)["comments"]]
    assert kinds == ["other", "staff"]


def test_pending_until_a_past_instant_is_refused(gateway: httpx.Client) -> None:
    ticket_id = open_ticket(gateway, TENANT)
    for until in (datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC) - timedelta(seconds=1)):
        body = {"waiting_for": "customer", "until": until.isoformat(), "reason": "asked for the logs"}
        reply = gateway.post(f"/v1/tickets/{ticket_id}/pending", json=body, headers=headers(TENANT))
        assert reply.status_code == 422, reply.text
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in reply.json()["errors"]] == ["until"]
    assert read_ticket(gateway, TENANT, ticket_id)["status"] == "new"
