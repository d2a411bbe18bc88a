"""Bad input through the gateway, on real processes and PostgreSQL: a path value the proxy cannot
forward, a ticket id that is no ticket id, a rule word no ticket can have; each a 4xx
problem+json naming what is wrong, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.chassis.http.problems import PROBLEM_JSON
from tests.client import headers
from tests.harness import Desk

TENANT = "acme"


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    desk.service("routing", "api").start()
    desk.service("sla", "api").start()
    intake = desk.service("intake", "api").start()
    with httpx.Client(base_url=intake.url, timeout=10.0, headers=headers(TENANT)) as client:
        yield client


def assert_problem(reply: httpx.Response, status: int) -> Any:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == PROBLEM_JSON
    return reply.json()


def test_a_path_with_control_characters_is_a_bad_request_at_the_gateway(gateway: httpx.Client) -> None:
    rule = {"group_id": "first-line"}
    for method, path, body in (
        ("PUT", "/v1/routing/rules/%F1%86%8E%8C%14", rule),
        ("GET", "/v1/routing/agents/%0F%C2%88", None),
        ("DELETE", "/v1/sla/policies/gold%1D", None),
    ):
        problem = assert_problem(gateway.request(method, path, json=body), 400)
        assert problem["field"] == "path", problem


def test_a_path_value_reaches_the_service_behind_as_the_caller_encoded_it(gateway: httpx.Client) -> None:
    agent = {"groups": ["first-line"], "capacity": 3}
    gateway.put("/v1/routing/groups/first-line", json={"tier": 1, "default": True}).raise_for_status()
    # decoded, `#` would cut the path short and set up an agent "ann"; as sent, routing judges "ann#night"
    assert_problem(gateway.put("/v1/routing/agents/ann%23night", json=agent), 422)
    assert gateway.get("/v1/routing/agents/ann").status_code == 404
    for climbing in ("/v1/routing/agents/%2E%2E/groups", "/v1/sla/policies/..%2Fcalendars"):
        assert assert_problem(gateway.get(climbing), 400)["field"] == "path", climbing


def test_a_ticket_id_that_is_no_uuid_is_refused_by_routing(gateway: httpx.Client) -> None:
    problem = assert_problem(gateway.get("/v1/routing/tickets/0"), 422)
    assert "ticket_id" in problem["detail"]
    escalation = gateway.post("/v1/routing/tickets/admin-1/escalations", json={"reason": "urgent"})
    assert "ticket_id" in assert_problem(escalation, 422)["detail"]


def test_a_routing_rule_word_no_ticket_can_have_is_refused(gateway: httpx.Client) -> None:
    gateway.put("/v1/routing/groups/first-line", json={"tier": 1, "default": True}).raise_for_status()
    # the last three pass pydantic's own regex (its `\w` takes marks and connectors), not the tokenizer's
    for word in ("vpn2", "a", "e-mail", "x" * 41, "cafe\u0301", "नमस्ते", "a\u203fb"):
        rule = {"rule_id": "vpn", "group_id": "first-line", "words": ["VPN", word]}
        problem = assert_problem(gateway.post("/v1/routing/rules", json=rule), 422)
        assert [(e["field"], e["type"]) for e in problem["errors"]] == [("words.1", "string_pattern_mismatch")], word
    accepted = gateway.post("/v1/routing/rules", json={"rule_id": "vpn", "group_id": "first-line", "words": ["VPN"]})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["words"] == ["vpn"]
