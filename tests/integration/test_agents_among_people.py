"""The desk's agents among its people (`/v1/people/agents`), as the routing service knows them, on real
PostgreSQL and Kafka: routing and the gateway each in their own process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.client import eventually, headers
from tests.harness import Desk

TENANT = "acme"
ADMIN = headers(TENANT, "admin-1", ("admin",))
SUPERVISOR = headers(TENANT, "sofia", ("supervisor",))


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    desk.env["SERVICEDESK_ROUTING_URL"] = desk.service("routing").start().url
    intake = desk.service("intake", "api").start()
    with httpx.Client(base_url=intake.url, timeout=20.0) as client:
        yield client


def ok(reply: httpx.Response) -> Any:
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_staff_list_the_agents_with_their_groups(gateway: httpx.Client) -> None:
    assert ok(gateway.get("/v1/people/agents", headers=SUPERVISOR)) == {"agents": []}, "routing has nobody yet"
    for group, tier in (("first-line", 1), ("second-line", 2)):
        ok(gateway.put(f"/v1/routing/groups/{group}", json={"tier": tier, "default": tier == 1}, headers=ADMIN))
    ok(gateway.put("/v1/routing/agents/ann", json={"groups": ["first-line"], "skills": ["vpn"], "capacity": 5},
                   headers=ADMIN))  # fmt: skip
    ok(gateway.put("/v1/routing/agents/vera", json={"groups": ["first-line", "second-line"], "tier": 2,
                                                    "capacity": 3}, headers=ADMIN))  # fmt: skip
    ok(gateway.put("/v1/routing/agents/ann/presence", json={"presence": "online"}, headers=ADMIN))

    agents = eventually(lambda: ok(gateway.get("/v1/people/agents", headers=SUPERVISOR))["agents"],
                        lambda found: [a["presence"] for a in found] == ["online", "offline"])  # fmt: skip
    assert agents == [
        {"id": "ann", "groups": ["first-line"], "skills": ["vpn"], "tier": 1, "capacity": 5, "presence": "online",
         "load": 0},
        {"id": "vera", "groups": ["first-line", "second-line"], "skills": [], "tier": 2, "capacity": 3,
         "presence": "offline", "load": 0},
    ]  # fmt: skip
    second = ok(gateway.get("/v1/people/agents", params={"group_id": "second-line"}, headers=SUPERVISOR))
    assert [a["id"] for a in second["agents"]] == ["vera"]
    assert ok(gateway.get("/v1/people/agents/vera", headers=headers(TENANT, "ann", ("agent",)))) == agents[1]

    unknown = gateway.get("/v1/people/agents/nobody", headers=SUPERVISOR)
    assert (unknown.status_code, unknown.json()["field"]) == (404, "agent_id")
    customer = headers(TENANT, "kim", ("customer",))
    assert gateway.get("/v1/people/agents", headers=customer).status_code == 403
    assert ok(gateway.get("/v1/people/agents", headers=headers("globex", "gus", ("admin",)))) == {"agents": []}
