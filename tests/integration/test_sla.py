"""SLA clocks end to end, on real Kafka and PostgreSQL: a ticket opened at the gateway
starts its clock, the desk sees its due times on the ticket, a warning escalates it
where routing's policy says so, and a customer who never answers is resolved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.client import eventually, headers, open_ticket, put_ok, read_ticket
from tests.harness import Desk

TENANT = "acme"


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    with desk.gateway("routing", "sla") as client:
        yield client


def test_a_ticket_shows_its_sla_due_times_and_a_warning_escalates_it(gateway: httpx.Client) -> None:
    put_ok(gateway, TENANT, "/v1/routing/groups/second-line", {"tier": 2})
    first_line = {"tier": 1, "escalates_to": "second-line", "escalate_on": ["warning"], "default": True}
    put_ok(gateway, TENANT, "/v1/routing/groups/first-line", first_line)
    for agent, group in (("sam", "first-line"), ("vic", "second-line")):
        put_ok(gateway, TENANT, f"/v1/routing/agents/{agent}", {"groups": [group], "capacity": 5})
        put_ok(gateway, TENANT, f"/v1/routing/agents/{agent}/presence", {"presence": "online"})
    urgent = {"match": {"priorities": ["P1"]}, "targets": {"first_response": "PT10S", "resolution": "PT1H"},
              "warn_at": [50]}  # fmt: skip
    put_ok(gateway, TENANT, "/v1/sla/policies/urgent", urgent)
    opened = datetime.now(UTC)
    ticket_id = open_ticket(gateway, TENANT, priority="P1", type="question")
    seen = eventually(
        lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: "first_response" in t["sla"], timeout=30
    )
    due = datetime.fromisoformat(seen["sla"]["first_response"]["due_at"])
    assert opened < due < opened + timedelta(seconds=12)
    assert seen["sla"]["resolution"]["target_seconds"] == 3600
    escalated = eventually(
        lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: t["agent_id"] == "vic", timeout=30
    )
    assert escalated["group_id"] == "second-line"
    history = gateway.get(f"/v1/tickets/{ticket_id}/history", headers=headers(TENANT)).json()["events"]
    assert "SLA first_response at 50 %" in [e for e in history if e["event"] == "assigned"][-1]["reason"]
    breached = eventually(
        lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: t["sla"]["first_response"]["breached"]
    )
    assert breached["sla"]["first_response"]["state"] == "running"
    clock = gateway.get(f"/v1/sla/tickets/{ticket_id}", headers=headers(TENANT)).json()
    assert clock["metrics"]["first_response"]["warned_at_percent"] == [50]


def test_a_customer_who_never_answers_is_reminded_then_the_ticket_is_resolved(gateway: httpx.Client) -> None:
    standard = {"targets": {"resolution": "P1D"}, "reminders": {"every": "PT1S", "count": 2}}
    put_ok(gateway, TENANT, "/v1/sla/policies/standard", standard)
    ticket_id = open_ticket(gateway, TENANT)
    eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: "resolution" in t["sla"], timeout=30)
    until = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    body = {"waiting_for": "customer", "until": until, "reason": "asked for the logs"}
    reply = gateway.post(f"/v1/tickets/{ticket_id}/pending", json=body, headers=headers(TENANT))
    assert reply.status_code == 200, reply.text
    resolved = eventually(
        lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: t["status"] == "resolved", timeout=30
    )
    assert resolved["resolution"] == "no answer from the customer after 2 reminders"
    # the SLA service hears of the resolution, stops the clock, and intake hears of that in turn
    eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: t["sla"]["resolution"]["state"] == "met",
               timeout=30)  # fmt: skip


def test_bad_sla_setup_gets_a_problem_naming_the_field(gateway: httpx.Client) -> None:
    reply = gateway.put("/v1/sla/calendars/office", json={"time_zone": "Mars/Olympus", "weekly": {}},
                        headers=headers(TENANT))  # fmt: skip
    assert reply.status_code == 422
    assert reply.json()["field"] == "time_zone"
    reply = gateway.put("/v1/sla/policies/x", json={"calendar": "office", "targets": {"resolution": "PT1H"}},
                        headers=headers(TENANT))  # fmt: skip
    assert reply.status_code == 404
    assert reply.json()["field"] == "calendar"
    reply = gateway.put("/v1/sla/policies/x", json={"targets": {"resolution": "-PT1H"}}, headers=headers(TENANT))
    assert reply.status_code == 422
