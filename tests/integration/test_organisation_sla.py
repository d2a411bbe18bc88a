"""Organisations with an SLA of their own, end to end on real PostgreSQL and Kafka: the organisation names an SLA
policy and calendar at `/v1/organisations`, a ticket of one of its people opens with them (`ticket.opened` v6),
and the SLA service counts its clock by them, saying why; a policy changed later reaches only new tickets; an
organisation without one, or naming one SLA does not know, follows the policies' conditions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.chassis.domain.calendar import BusinessCalendar
from tests.client import eventually, headers, put_ok
from tests.harness import Desk

TENANT = "acme"
ADMIN = headers(TENANT, "admin-1", ("admin",))
AGENT = headers(TENANT, "agent-1", ("agent",))

STANDARD = {"targets": {"first_response": "PT8H", "resolution": "P5D"}}  # every ticket, unless another says
GOLD = {"match": {"priorities": ["P1"]}, "targets": {"first_response": "PT1H", "resolution": "PT4H"}}  # P1 only
TOKYO_HOURS = {"time_zone": "Asia/Tokyo", "weekly": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed")}}
SILVER = {"match": {"categories": ["never"]}, "targets": {"first_response": "PT2H", "resolution": "P1D"}}


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    with desk.gateway("sla") as client:
        put_ok(client, TENANT, "/v1/sla/calendars/tokyo-hours", TOKYO_HOURS)
        for policy_id, policy in (("gold", GOLD), ("silver", SILVER), ("standard", STANDARD)):
            put_ok(client, TENANT, f"/v1/sla/policies/{policy_id}", policy)
        yield client


def ok(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()


def an_organisation(client: httpx.Client, name: str, **sla: str) -> str:
    """A new organisation with `sla` (sla_policy_id, sla_calendar_id); its id."""
    body = {"name": name, "domains": [], **sla}
    organisation_id: str = ok(client.post("/v1/organisations", json=body, headers=ADMIN), 201)["id"]
    return organisation_id


def a_ticket_of(client: httpx.Client, organisation_id: str | None, priority: str = "P3") -> str:
    """A ticket opened by an agent for a person of the organisation (the desk fills the organisation in)."""
    person = ok(client.post("/v1/people", json={"name": "Kim", "organisation_id": organisation_id}, headers=ADMIN), 201)
    body = {"title": "VPN", "description": "down", "channel": "api", "requester_id": person["id"], "priority": priority}
    ticket_id: str = ok(client.post("/v1/tickets", json=body, headers=AGENT), 201)["id"]
    return ticket_id


def clock_of(client: httpx.Client, ticket_id: str) -> dict[str, Any]:
    """The ticket's SLA clock, once the SLA service has started it."""

    def read() -> httpx.Response:
        return client.get(f"/v1/sla/tickets/{ticket_id}", headers=ADMIN)

    clock: dict[str, Any] = eventually(read, lambda reply: reply.status_code == 200, timeout=30).json()
    return clock


def opened_event(client: httpx.Client, ticket_id: str) -> dict[str, Any]:
    """The `ticket.opened` intake published for the ticket, from the gateway's event feed."""

    def read() -> list[dict[str, Any]]:
        reply = client.get("/v1/events", params={"types": "ticket.opened"}, headers=ADMIN)
        events: list[dict[str, Any]] = ok(reply)["events"]
        return [event for event in events if event["subject"] == ticket_id]

    found: list[dict[str, Any]] = eventually(read, lambda events: len(events) == 1)
    return found[0]


def test_an_organisations_own_sla_policy_sets_its_tickets_targets(gateway: httpx.Client) -> None:
    northwind = an_organisation(gateway, "Northwind", sla_policy_id="gold", sla_calendar_id="tokyo-hours")
    ticket_id = a_ticket_of(gateway, northwind, priority="P3")  # gold's conditions match P1 only

    opened = opened_event(gateway, ticket_id)
    assert (opened["version"], opened["data"]["organisation"]) == (6, northwind)
    assert (opened["data"]["sla_policy_id"], opened["data"]["sla_calendar_id"]) == ("gold", "tokyo-hours")
    clock = clock_of(gateway, ticket_id)
    assert (clock["policy_id"], clock["calendar"], clock["chosen_by"]) == ("gold", "tokyo-hours", "organisation")
    assert clock["reason"] == "the organisation's own policy 'gold', in the organisation's calendar 'tokyo-hours'"
    assert clock["metrics"]["first_response"]["target_seconds"] == 3600
    due = datetime.fromisoformat(clock["metrics"]["first_response"]["due_at"])
    in_tokyo_hours = BusinessCalendar.from_spec(TOKYO_HOURS).add_business_time(
        datetime.fromisoformat(opened["occurred_at"]), 3600
    )
    assert due == in_tokyo_hours


def test_an_organisation_whose_policy_changes_gives_the_new_one_to_new_tickets_only(gateway: httpx.Client) -> None:
    northwind = an_organisation(gateway, "Northwind", sla_policy_id="gold")
    before = a_ticket_of(gateway, northwind)
    assert clock_of(gateway, before)["policy_id"] == "gold"

    ok(gateway.patch(f"/v1/organisations/{northwind}", json={"sla_policy_id": "silver"}, headers=ADMIN))
    after = a_ticket_of(gateway, northwind)
    assert (clock_of(gateway, after)["policy_id"], clock_of(gateway, after)["chosen_by"]) == ("silver", "organisation")
    kept = clock_of(gateway, before)
    assert (kept["policy_id"], kept["metrics"]["first_response"]["target_seconds"]) == ("gold", 3600)


def test_a_ticket_of_an_organisation_without_a_policy_follows_the_rules(gateway: httpx.Client) -> None:
    plain = an_organisation(gateway, "Plain Ltd")
    ticket_id = a_ticket_of(gateway, plain)
    assert opened_event(gateway, ticket_id)["version"] == 4, "nothing of its own to say: as every ticket opened here"
    clock = clock_of(gateway, ticket_id)
    assert (clock["policy_id"], clock["calendar"], clock["chosen_by"]) == ("standard", "24x7", "rules")
    assert clock["reason"] == "the first policy whose conditions hold, 'standard'"

    urgent = clock_of(gateway, a_ticket_of(gateway, plain, priority="P1"))
    assert (urgent["policy_id"], urgent["chosen_by"]) == ("gold", "rules")


def test_an_organisation_naming_a_policy_sla_does_not_know_is_accepted_and_its_tickets_follow_the_rules(
    gateway: httpx.Client, desk: Desk
) -> None:
    ahead = an_organisation(gateway, "Ahead Inc", sla_policy_id="platinum", sla_calendar_id="mars-hours")
    assert ok(gateway.get(f"/v1/organisations/{ahead}", headers=AGENT))["sla_policy_id"] == "platinum"
    ticket_id = a_ticket_of(gateway, ahead)
    assert opened_event(gateway, ticket_id)["data"]["sla_policy_id"] == "platinum"
    clock = clock_of(gateway, ticket_id)
    assert (clock["policy_id"], clock["calendar"], clock["chosen_by"]) == ("standard", "24x7", "rules")
    assert "the organisation's policy 'platinum' is not defined" in clock["reason"]
    assert "the organisation's calendar 'mars-hours' is not defined" in clock["reason"]
    assert datetime.fromisoformat(clock["metrics"]["first_response"]["due_at"]) > datetime.now(UTC)
    sla = next(service for service in desk.services if service.name == "sla")
    scraped = httpx.get(f"{sla.url}/metrics").text
    for unknown in ("policy", "calendar"):
        series = f'servicedesk_sla_organisation_sla_passed_over_total{{tenant="{TENANT}",unknown="{unknown}"}} 1.0'
        assert series in scraped, "passed over, and counted once"
