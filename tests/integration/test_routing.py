"""Routing end to end, on real Kafka and PostgreSQL: a ticket opened at the gateway is
assigned on its own stream by routing's decision, with the reason written down."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.client import eventually, headers, open_ticket, put_ok, read_ticket
from tests.harness import Desk

TENANT = "acme"


def set_up_desk(client: httpx.Client) -> None:
    put_ok(client, TENANT, "/v1/routing/groups/second-line", {"tier": 2})
    put_ok(client, TENANT, "/v1/routing/groups/first-line", {"tier": 1, "escalates_to": "second-line", "default": True})
    put_ok(
        client,
        TENANT,
        "/v1/routing/groups/billing",
        {"tier": 1, "strategy": "skills_match", "escalates_to": "second-line"},
    )
    for rule in (
        {"rule_id": "outage", "group_id": "second-line", "priorities": ["P1"], "types": ["incident"]},
        {"rule_id": "billing-ru", "group_id": "billing", "categories": ["billing"], "words": ["Оплата", "счёт"],
         "skills": ["billing", "ru"]},
        {"rule_id": "billing", "group_id": "billing", "categories": ["billing"], "skills": ["billing"]},
    ):  # fmt: skip
        reply = client.post("/v1/routing/rules", json=rule, headers=headers(TENANT))
        assert reply.status_code == 201, reply.text
    agents = {"ann": (["billing"], ["billing"]), "boris": (["billing"], ["billing", "ru"]),
              "sam": (["first-line"], []), "vic": (["second-line"], ["network"])}  # fmt: skip
    for agent, (groups, skills) in agents.items():
        put_ok(client, TENANT, f"/v1/routing/agents/{agent}", {"groups": groups, "skills": skills, "capacity": 2})
        put_ok(client, TENANT, f"/v1/routing/agents/{agent}/presence", {"presence": "online"})


def assigned_to(client: httpx.Client, ticket_id: str, agent: str | None, group: str | None = None) -> dict[str, Any]:
    return eventually(
        lambda: read_ticket(client, TENANT, ticket_id),
        lambda t: t["agent_id"] == agent and (group is None or t["group_id"] == group),
        timeout=30,
    )


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    desk.service("routing").start()
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=10.0) as client:
        set_up_desk(client)
        yield client


def test_a_billing_question_in_russian_is_assigned_to_the_agent_who_speaks_russian(gateway: httpx.Client) -> None:
    ticket_id = open_ticket(gateway, TENANT, title="Не прошла оплата", description="Счёт за ноябрь", category="billing",
                            type="question", priority="P3")  # fmt: skip
    seen = assigned_to(gateway, ticket_id, "boris", "billing")
    assert seen["assignment_decision"] == f"{ticket_id}/2"
    history = gateway.get(f"/v1/tickets/{ticket_id}/history", headers=headers(TENANT)).json()
    assigned = [e for e in history["events"] if e["event"] == "assigned"]
    assert len(assigned) == 1
    assert assigned[0]["actor"] == "system:routing"
    assert "rule 'billing-ru' matched" in assigned[0]["reason"]
    assert assigned[0]["changes"]["decision_id"] == f"{ticket_id}/2"
    why = gateway.get(f"/v1/routing/tickets/{ticket_id}", headers=headers(TENANT)).json()
    assert why["decisions"][0]["agents_passed_over"] == {"ann": "lacks ['ru']"}


def test_a_p1_outage_skips_to_second_line(gateway: httpx.Client) -> None:
    ticket_id = open_ticket(gateway, TENANT, priority="P1", type="incident")
    assigned_to(gateway, ticket_id, "vic", "second-line")


def test_a_manual_assignment_is_never_overridden_but_a_requested_escalation_is(gateway: httpx.Client) -> None:
    ticket_id = open_ticket(gateway, TENANT, category="general", priority="P3")
    assigned_to(gateway, ticket_id, "sam")
    manual = {"group_id": "billing", "agent_id": "ann", "reason": "ann knows this customer"}
    reply = gateway.put(f"/v1/tickets/{ticket_id}/assignment", headers=headers(TENANT), json=manual)
    assert reply.status_code == 200, reply.text
    eventually(lambda: gateway.get("/v1/routing/agents/sam", headers=headers(TENANT)).json(), lambda a: a["load"] == 0)
    assert gateway.get("/v1/routing/agents/ann", headers=headers(TENANT)).json()["load"] == 1
    assert assigned_to(gateway, ticket_id, "ann", "billing")["assignment_decision"] is None

    reply = gateway.post(f"/v1/routing/tickets/{ticket_id}/escalations", headers=headers(TENANT),
                         json={"reason": "needs the network team"})  # fmt: skip
    assert reply.status_code == 200, reply.text
    assert reply.json()["group_id"] == "second-line"
    assigned_to(gateway, ticket_id, "vic", "second-line")


def test_the_queue_drains_when_an_agent_comes_online(gateway: httpx.Client) -> None:
    put_ok(gateway, TENANT, "/v1/routing/agents/sam/presence", {"presence": "offline"})
    waiting = [open_ticket(gateway, TENANT, category="general") for _ in range(2)]
    for ticket_id in waiting:
        assigned_to(gateway, ticket_id, None, "first-line")
    queue = gateway.get("/v1/routing/queues/first-line", headers=headers(TENANT)).json()
    assert [w["ticket_id"] for w in queue["waiting"]] == waiting
    put_ok(gateway, TENANT, "/v1/routing/agents/sam/presence", {"presence": "online"})
    for ticket_id in waiting:
        assigned_to(gateway, ticket_id, "sam", "first-line")


def test_bad_routing_setup_gets_a_problem_naming_the_field(gateway: httpx.Client) -> None:
    reply = gateway.put("/v1/routing/groups/first-line", headers=headers(TENANT),
                        json={"tier": 3, "escalates_to": "second-line"})  # fmt: skip
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["field"] == "escalates_to"
    reply = gateway.put("/v1/routing/agents/nobody/presence", headers=headers(TENANT), json={"presence": "online"})
    assert reply.status_code == 404
    reply = gateway.post(
        "/v1/routing/rules", headers=headers(TENANT), json={"rule_id": "x", "group_id": "g", "tiers": [1]}
    )
    assert reply.status_code == 422
    assert "tiers" in reply.json()["detail"]


def test_a_retried_escalation_escalates_once(gateway: httpx.Client) -> None:
    ticket_id = open_ticket(gateway, TENANT, category="general", priority="P3")
    assigned_to(gateway, ticket_id, "sam", "first-line")
    path, asked = f"/v1/routing/tickets/{ticket_id}/escalations", {"reason": "needs the network team"}
    keyed = headers(TENANT) | {"Idempotency-Key": "escalate-1"}

    replies = [gateway.post(path, headers=keyed, json=asked) for _ in range(2)]

    assert [reply.status_code for reply in replies] == [200, 200], replies[-1].text
    assert replies[1].json()["group_id"] == "second-line"
    decisions = gateway.get(f"/v1/routing/tickets/{ticket_id}", headers=headers(TENANT)).json()["decisions"]
    assert [d["kind"] for d in decisions].count("escalated") == 1


def test_a_retried_rule_is_answered_and_a_key_is_its_callers_own(gateway: httpx.Client) -> None:
    rule = {"rule_id": "vip", "group_id": "second-line", "organisations": ["globex"]}
    other = {"rule_id": "vip-2", "group_id": "billing", "organisations": ["initech"]}
    mine = headers(TENANT, "admin-1") | {"Idempotency-Key": "rule-1"}
    theirs = headers(TENANT, "admin-2") | {"Idempotency-Key": "rule-1"}

    first, retried = (gateway.post("/v1/routing/rules", headers=mine, json=rule) for _ in range(2))
    another_admins = gateway.post("/v1/routing/rules", headers=theirs, json=other)
    reused = gateway.post("/v1/routing/rules", headers=mine, json=other | {"rule_id": "vip-3"})

    assert (first.status_code, retried.status_code) == (201, 200), retried.text
    assert retried.json() == first.json()
    assert another_admins.status_code == 201, "the same key of another admin is their own request"
    assert (reused.status_code, reused.json()["rule"]) == (422, "idempotency-key-reused")
    rules = gateway.get("/v1/routing/rules", headers=headers(TENANT)).json()["rules"]
    assert [r["rule_id"] for r in rules][-2:] == ["vip", "vip-2"]


def test_an_agent_saved_by_an_admin_is_in_the_agents_list_read_right_after(gateway: httpx.Client) -> None:
    for n in range(5):
        agent = f"new-{n}"
        put_ok(gateway, TENANT, f"/v1/routing/agents/{agent}", {"groups": ["billing"], "skills": ["ru"], "capacity": 3})
        listed = gateway.get("/v1/routing/agents", headers=headers(TENANT))
        assert listed.status_code == 200, listed.text
        assert {"agent_id": agent, "skills": ["ru"]}.items() <= next(
            a for a in listed.json()["agents"] if a["agent_id"] == agent
        ).items()
