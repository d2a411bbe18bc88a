"""Timed triggers end to end, on real PostgreSQL and Kafka: "pending for more than N seconds without the
customer's answer → tag and internal note" fires on its instant (within a second), not at all when the
customer answers first, and once after a SIGKILL of the rules scheduler just before the instant.

The rules service runs as separate processes (api, consumer, relay, scheduler) so that only the scheduler is
killed; Kafka and PostgreSQL are never touched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.client import eventually, headers, open_ticket, read_ticket
from tests.harness import Desk, Service

TENANT = "acme"
ADMIN = headers(TENANT, "admin-1", ("admin",))
AGENT = headers(TENANT, "agent-1", ("agent",))
CUSTOMER = headers(TENANT, "customer-42", ("customer",))
SECONDS = 6.0  # "pending for more than" this long; hours are fractional


class Rules:
    def __init__(self, desk: Desk) -> None:
        self.api = desk.service("rules", "api").start()
        self.consumer = desk.service("rules", "consumer").start()
        self.relay = desk.service("rules", "relay").start()
        self.scheduler: Service = desk.service("rules", "scheduler").start()


@pytest.fixture
def rules(desk: Desk) -> Rules:
    return Rules(desk)


@pytest.fixture
def gateway(desk: Desk, rules: Rules) -> Iterator[httpx.Client]:
    with desk.gateway() as client:
        yield client


def chase(client: httpx.Client, seconds: float = SECONDS) -> dict[str, Any]:
    spec = {
        "name": "Chase a silent customer",
        "when": ["time"],
        "if": [
            {"field": "status", "op": "is", "value": "pending"},
            {"field": "replied_last", "op": "is_not", "value": "customer"},
            {"field": "hours_since", "of": "status_changed", "op": "greater", "value": seconds / 3600,
             "business_hours": False},
        ],
        "then": {"tags_add": ["chased"], "note": "No answer on {{ ticket.number }}: call the customer."},
    }  # fmt: skip
    made = client.post("/v1/triggers", json=spec, headers=ADMIN)
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def pend(client: httpx.Client, ticket_id: str) -> float:
    """Mark the ticket pending on the customer; the instant intake recorded it (epoch seconds)."""
    body = {"waiting_for": "customer", "until": "2099-01-01T00:00:00+00:00", "reason": "asked for the logs"}
    reply = client.post(f"/v1/tickets/{ticket_id}/pending", json=body, headers=ADMIN)
    assert reply.status_code == 200, reply.text
    events = client.get(f"/v1/tickets/{ticket_id}/history", headers=ADMIN).json()["events"]
    # Its own event, not the last: a trigger reacting to it may have tagged the ticket by now.
    pended = next(e for e in reversed(events) if e["event"] == "marked_pending")
    return datetime.fromisoformat(pended["at"]).timestamp()


def firings(client: httpx.Client, trigger_id: str) -> list[dict[str, Any]]:
    reply = client.get(f"/v1/triggers/{trigger_id}/firings", headers=ADMIN)
    assert reply.status_code == 200, reply.text
    return reply.json()["firings"]  # type: ignore[no-any-return]


def lateness(firing: dict[str, Any]) -> float:
    """How long after its due instant the firing was recorded (its event id names the due instant)."""
    due = float(firing["event_id"].removeprefix("time:"))
    return datetime.fromisoformat(firing["at"]).timestamp() - due


def test_a_silent_pending_ticket_is_chased_within_a_second_of_its_instant(gateway: httpx.Client) -> None:
    trigger = chase(gateway)
    ticket_id = open_ticket(gateway, TENANT)
    answered = open_ticket(gateway, TENANT)
    pended_at = pend(gateway, ticket_id)
    pend(gateway, answered)
    reply = gateway.post(f"/v1/tickets/{answered}/comments", json={"body": "Here are the logs", "public": True},
                         headers=CUSTOMER)  # fmt: skip
    assert reply.status_code in (200, 201), reply.text

    seen = eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: "chased" in t["tags"], timeout=60)
    [firing] = firings(gateway, trigger["id"])
    assert firing["ticket_id"] == ticket_id
    due = float(firing["event_id"].removeprefix("time:"))
    assert abs(due - (pended_at + SECONDS)) < 0.01, (due, pended_at)
    assert 0 <= lateness(firing) <= 1.0, firing
    note = [c for c in seen["comments"] if "call the customer" in c["body"]]
    assert len(note) == 1
    assert note[0]["public"] is False

    time.sleep(SECONDS)  # the answered ticket's instant has passed too
    assert [f["ticket_id"] for f in firings(gateway, trigger["id"])] == [ticket_id]
    assert "chased" not in read_ticket(gateway, TENANT, answered)["tags"]


def test_a_timer_fires_once_after_the_scheduler_is_killed_just_before_its_instant(
    desk: Desk, rules: Rules, gateway: httpx.Client
) -> None:
    trigger = chase(gateway, seconds=10.0)
    ticket_id = open_ticket(gateway, TENANT)
    pended_at = pend(gateway, ticket_id)
    time.sleep(max(0.0, pended_at + 10.0 - 1.0 - time.time()))  # a second before the instant
    rules.scheduler.kill()
    time.sleep(2.0)  # the instant passes while no scheduler runs
    assert firings(gateway, trigger["id"]) == []
    desk.service("rules", "scheduler").start()
    eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: "chased" in t["tags"], timeout=60)
    time.sleep(3.0)  # time enough for a second firing, were there one
    [firing] = firings(gateway, trigger["id"])
    assert firing["ticket_id"] == ticket_id
    comments = read_ticket(gateway, TENANT, ticket_id)["comments"]
    assert len([c for c in comments if "call the customer" in c["body"]]) == 1


def test_a_timed_trigger_made_after_a_ticket_went_pending_still_chases_it_once(gateway: httpx.Client) -> None:
    seen = {"name": "Seen pending", "when": ["ticket.status_changed"], "then": {"tags_add": ["seen-pending"]},
            "if": [{"field": "status", "op": "changed_to", "value": "pending"}]}  # fmt: skip
    assert gateway.post("/v1/triggers", json=seen, headers=ADMIN).status_code == 201
    ticket_id = open_ticket(gateway, TENANT)
    pended_at = pend(gateway, ticket_id)
    eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: "seen-pending" in t["tags"], timeout=60)
    trigger = chase(gateway)  # the rules service knows the ticket is pending; its facts change no more

    eventually(lambda: read_ticket(gateway, TENANT, ticket_id), lambda t: "chased" in t["tags"], timeout=60)
    [firing] = firings(gateway, trigger["id"])
    assert abs(float(firing["event_id"].removeprefix("time:")) - (pended_at + SECONDS)) < 0.01
    enabled = gateway.post(f"/v1/triggers/{trigger['id']}/enable", headers=ADMIN)  # a sweep again: nothing new
    assert enabled.status_code == 200, enabled.text
    time.sleep(3.0)
    assert len(firings(gateway, trigger["id"])) == 1
