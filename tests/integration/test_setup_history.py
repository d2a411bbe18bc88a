"""Two admins change the routing rules, a business calendar and the SLA policies through the gateway; each
list's history names who did what, newest first, and only an admin reads it (real PostgreSQL and Kafka)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.client import headers
from tests.harness import Desk

TENANT = "acme"
ADA = headers(TENANT, "admin-ada")
BORIS = headers(TENANT, "admin-boris")


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    with desk.gateway("routing", "sla") as client:
        yield client


def sent(reply: httpx.Response, status: int = 200) -> None:
    assert reply.status_code == status, reply.text


def history(gateway: httpx.Client, path: str) -> list[tuple[str, str, Any]]:
    reply = gateway.get(path, headers=ADA)
    sent(reply)
    return [(c["by"], c["change"], c["id"]) for c in reply.json()["changes"]]


def test_each_admin_change_of_rules_calendars_and_policies_names_its_admin(gateway: httpx.Client) -> None:
    sent(gateway.put("/v1/routing/groups/first-line", json={"tier": 1, "default": True}, headers=ADA))
    rule = {"rule_id": "vpn", "group_id": "first-line", "words": ["vpn"]}
    sent(gateway.post("/v1/routing/rules", json=rule, headers=ADA | {"Idempotency-Key": "rule-vpn"}), 201)
    sent(gateway.put("/v1/routing/rules/vpn", json={"group_id": "first-line", "words": ["tunnel"]}, headers=BORIS))
    sent(gateway.delete("/v1/routing/rules/vpn", headers=ADA), 204)
    assert history(gateway, "/v1/routing/rules/history") == [
        ("admin-ada", "rule_retired", "vpn"),
        ("admin-boris", "rule_changed", "vpn"),
        ("admin-ada", "rule_added", "vpn"),
    ]

    office = {"time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "17:00"]]}}
    sent(gateway.put("/v1/sla/calendars/office", json=office, headers=BORIS))
    policy = {"calendar": "office", "targets": {"resolution": "PT4H"}}
    sent(gateway.put("/v1/sla/policies/standard", json=policy, headers=ADA))
    sent(gateway.put("/v1/sla/policies/urgent", json=policy | {"match": {"priorities": ["P1"]}}, headers=BORIS))
    sent(gateway.put("/v1/sla/policy-order", json={"policy_ids": ["urgent", "standard"]}, headers=BORIS))
    assert history(gateway, "/v1/sla/calendars/history") == [("admin-boris", "calendar_defined", "office")]
    assert history(gateway, "/v1/sla/policies/history") == [
        ("admin-boris", "policies_reordered", None),
        ("admin-boris", "policy_defined", "urgent"),
        ("admin-ada", "policy_defined", "standard"),
    ]

    agent = headers(TENANT, "agent-ann", roles=("agent",))
    for path in ("/v1/routing/rules/history", "/v1/sla/calendars/history", "/v1/sla/policies/history"):
        assert gateway.get(path, headers=agent).status_code == 403
