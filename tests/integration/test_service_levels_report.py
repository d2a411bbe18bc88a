"""The service-levels report on real Kafka and PostgreSQL: a target that burned shows the
moment it burns, answered or not, and time to resolve shows on the wall clock too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.client import eventually, headers, open_ticket, put_ok, read_ticket
from tests.harness import Desk

TENANT = "acme"


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    with desk.gateway("sla", "analytics") as client:
        yield client


def service_levels(client: httpx.Client) -> dict[str, Any]:
    reply = client.get("/v1/reports/service-levels", headers=headers(TENANT))
    assert reply.status_code == 200, reply.text
    metrics: dict[str, Any] = reply.json()["metrics"]
    return metrics


def test_a_breached_ticket_still_unanswered_shows_in_the_service_levels_report(gateway: httpx.Client) -> None:
    urgent = {"match": {"priorities": ["P1"]}, "targets": {"first_response": "PT2S", "resolution": "PT1H"}}
    put_ok(gateway, TENANT, "/v1/sla/policies/urgent", urgent)
    ticket_id = open_ticket(gateway, TENANT, priority="P1")
    eventually(
        lambda: read_ticket(gateway, TENANT, ticket_id),
        lambda t: (t["sla"] or {}).get("first_response", {}).get("breached"),
        timeout=30,
    )
    first = eventually(lambda: service_levels(gateway), lambda m: m["first_response"]["targets"], timeout=30)
    assert first["first_response"] == {
        "targets": 1, "met_in_time": 0, "breached": 1, "breached_still_open": 1, "compliance_percent": 0.0,
        "median_seconds": None, "p90_seconds": None, "median_wall_clock_seconds": None, "p90_wall_clock_seconds": None,
    }  # fmt: skip
    reply = gateway.post(f"/v1/tickets/{ticket_id}/resolve", headers=headers(TENANT),
                         json={"resolution": "Replaced the VPN client", "reason": "fixed"})  # fmt: skip
    assert reply.status_code == 200, reply.text
    after = eventually(lambda: service_levels(gateway), lambda m: m["resolution"]["targets"], timeout=30)
    assert (after["first_response"]["breached"], after["first_response"]["breached_still_open"]) == (1, 0)
    resolution = after["resolution"]
    assert (resolution["targets"], resolution["met_in_time"]) == (1, 1)
    assert resolution["median_seconds"] >= 2, "it took over 2 s of business time"
    assert abs(resolution["median_wall_clock_seconds"] - resolution["median_seconds"]) <= 1, "on a 24x7 calendar"


def test_a_reopened_ticket_keeps_its_resolution_in_time_and_shows_its_new_breach_open(gateway: httpx.Client) -> None:
    urgent = {"match": {"priorities": ["P1"]}, "targets": {"resolution": "PT4S"}}
    put_ok(gateway, TENANT, "/v1/sla/policies/urgent", urgent)
    ticket_id = open_ticket(gateway, TENANT, priority="P1")
    reply = gateway.post(f"/v1/tickets/{ticket_id}/resolve", headers=headers(TENANT),
                         json={"resolution": "Replaced the VPN client", "reason": "fixed"})  # fmt: skip
    assert reply.status_code == 200, reply.text
    resolved = eventually(lambda: service_levels(gateway), lambda m: m["resolution"]["targets"], timeout=30)
    assert (resolved["resolution"]["targets"], resolved["resolution"]["met_in_time"]) == (1, 1)
    reply = gateway.post(f"/v1/tickets/{ticket_id}/reopen", headers=headers(TENANT), json={"reason": "fails again"})
    assert reply.status_code == 200, reply.text
    burned = eventually(lambda: service_levels(gateway), lambda m: m["resolution"]["breached"], timeout=30)
    resolution = burned["resolution"]
    assert (resolution["targets"], resolution["met_in_time"], resolution["breached"]) == (2, 1, 1)
    assert resolution["breached_still_open"] == 1, "the reopened ticket's resolution burned and is not met"
