"""The queues, their counts and saved views through the gateway, on real PostgreSQL and Kafka: what the
workspace's queue pages ask the API (unassigned, my groups', breaching soon by the nearest SLA due
instant), how many each holds, and views that stay their owner's until shared."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.client import eventually, open_ticket, put_ok
from tests.harness import Desk
from tests.tokens import token

TENANT = "acme"


def person(subject: str, roles: tuple[str, ...], groups: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(TENANT, subject, roles=roles, groups=groups)}"}


ANN = person("agent-ann", ("agent",), ("first-line",))
BORIS = person("agent-boris", ("agent",), ("first-line",))
SOFIA = person("supervisor-1", ("supervisor",), ("first-line", "second-line"))
KIM = person("customer-kim", ("customer",))
ADMIN = person("admin-1", ("admin",))


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    desk.service("sla").start()
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=10.0) as client:
        yield client


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else None


def ids(client: httpx.Client, who: dict[str, str], **params: Any) -> list[str]:
    return [t["id"] for t in ok(client.get("/v1/tickets", params=params, headers=who))["tickets"]]


def counts(client: httpx.Client, who: dict[str, str], **params: Any) -> dict[str, Any]:
    found: dict[str, Any] = ok(client.get("/v1/tickets/counts", params=params, headers=who))
    return found


def assign(client: httpx.Client, ticket_id: str, group_id: str, agent_id: str | None) -> None:
    body = {"group_id": group_id, "agent_id": agent_id, "reason": "triage"}
    ok(client.put(f"/v1/tickets/{ticket_id}/assignment", json=body, headers=ADMIN))


def test_an_agents_queues_list_and_count_unassigned_my_groups_and_breaching_soon(gateway: httpx.Client) -> None:
    for name, priority, hours in (("urgent", "P1", 1), ("high", "P2", 4), ("normal", "P3", 8)):
        targets = {"first_response": f"PT{hours}H", "resolution": f"PT{hours * 3}H"}
        put_ok(gateway, TENANT, f"/v1/sla/policies/{name}", {"match": {"priorities": [priority]}, "targets": targets})
    normal = open_ticket(gateway, TENANT, priority="P3")
    urgent = open_ticket(gateway, TENANT, priority="P1")
    high = open_ticket(gateway, TENANT, priority="P2")
    elsewhere = open_ticket(gateway, TENANT, priority="P4")  # no policy: no clock
    assign(gateway, urgent, "first-line", "agent-ann")
    assign(gateway, high, "first-line", None)
    assign(gateway, elsewhere, "second-line", None)

    breaching = eventually(
        lambda: ok(
            gateway.get("/v1/tickets", params={"queue": "breaching_soon", "order": "sla_due_at"}, headers=ADMIN)
        ),
        lambda page: len(page["tickets"]) == 3,
        timeout=30,
    )["tickets"]
    assert [t["id"] for t in breaching] == [urgent, high, normal], "nearest due first"
    assert breaching[0]["sla_due_at"] < breaching[1]["sla_due_at"] < breaching[2]["sla_due_at"]
    walked, cursor = [], None
    while True:  # the keyset cursor walks the same order one at a time
        params: dict[str, str | int] = {"queue": "breaching_soon", "order": "sla_due_at", "limit": 1}
        params |= {"cursor": cursor} if cursor else {}
        page = ok(gateway.get("/v1/tickets", params=params, headers=ADMIN))
        walked += [t["id"] for t in page["tickets"]]
        if not (cursor := page["next_cursor"]):
            break
    assert walked == [urgent, high, normal]
    assert ok(gateway.get("/v1/tickets", params={"limit": 10}, headers=ADMIN))["tickets"][-1]["sla_due_at"] is not None
    assert ids(gateway, ADMIN, queue="all", priority="P4")[0] == elsewhere
    assert [
        t["sla_due_at"] for t in ok(gateway.get("/v1/tickets", params={"priority": "P4"}, headers=ADMIN))["tickets"]
    ] == [None]

    # Ann (first-line) sees her groups', the unrouted and her own: never second-line's.
    assert set(ids(gateway, ANN, queue="unassigned")) == {normal, high}
    assert set(ids(gateway, ANN, queue="my_groups")) == {urgent, high}
    assert ids(gateway, ANN, queue="mine") == [urgent]
    assert set(ids(gateway, SOFIA, queue="my_groups")) == {urgent, high, elsewhere}
    assert set(ids(gateway, ADMIN, group_id=["first-line", "second-line"])) == {urgent, high, elsewhere}
    assert set(ids(gateway, ADMIN, unassigned="true")) == {normal, high, elsewhere}
    assert counts(gateway, ANN, queue=["mine", "my_groups", "unassigned", "waiting", "breaching_soon", "all"]) == {
        "queues": {"mine": 1, "my_groups": 2, "unassigned": 2, "waiting": 0, "breaching_soon": 3, "all": 3},
        "views": {},
    }
    assert counts(gateway, ADMIN, queue=["unassigned", "all"])["queues"] == {"unassigned": 3, "all": 4}


def test_a_queue_or_order_the_api_does_not_know_is_a_problem_naming_the_field(gateway: httpx.Client) -> None:
    for path, params, field in (
        ("/v1/tickets/counts", {"queue": "urgentest"}, "query.queue.0"),
        ("/v1/tickets", {"order": "colour"}, "query.order"),
        ("/v1/tickets", {"view": str(uuid.uuid4())}, "view"),
        ("/v1/tickets/counts", {"view": str(uuid.uuid4())}, "view"),
    ):
        refused = gateway.get(path, params=params, headers=ANN)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in refused.json()["errors"]] == [field]


def test_a_saved_view_is_its_owners_until_shared_and_lists_and_counts_its_tickets(gateway: httpx.Client) -> None:
    urgent = open_ticket(gateway, TENANT, priority="P1", tags=["vpn"])
    open_ticket(gateway, TENANT, priority="P3", tags=["vpn"])
    view_id = str(uuid.uuid4())
    spec = {
        "name": "Urgent VPN",
        "filters": {"priority": ["P1", "P2"], "tag": "vpn", "status": ["new", "open"]},
        "columns": ["number", "title", "priority", "sla_due_at"],
        "order": "sla_due_at",
    }
    saved = ok(gateway.put(f"/v1/views/{view_id}", json=spec, headers=ANN), 201)
    assert (saved["owner"], saved["shared"], saved["columns"]) == ("agent-ann", False, spec["columns"])
    assert [v["id"] for v in ok(gateway.get("/v1/views", headers=ANN))["views"]] == [view_id]
    assert ok(gateway.get("/v1/views", headers=BORIS))["views"] == [], "a personal view is its owner's"
    assert gateway.get(f"/v1/views/{view_id}", headers=BORIS).status_code == 404
    assert gateway.put(f"/v1/views/{view_id}", json=spec, headers=BORIS).status_code == 404
    assert eventually(lambda: ids(gateway, ANN, view=view_id, order="-created_at"), lambda found: found == [urgent])
    assert counts(gateway, ANN, view=view_id)["views"] == {view_id: 1}
    assert gateway.get("/v1/tickets/counts", params={"view": view_id}, headers=BORIS).status_code == 422

    ok(gateway.put(f"/v1/views/{view_id}", json=spec | {"shared": True}, headers=ANN))
    assert [v["name"] for v in ok(gateway.get("/v1/views", headers=BORIS))["views"]] == ["Urgent VPN"]
    assert counts(gateway, BORIS, view=view_id)["views"] == {view_id: 1}
    refused = gateway.put(f"/v1/views/{view_id}", json=spec | {"name": "Mine now"}, headers=BORIS)
    assert refused.status_code == 403, refused.text
    assert refused.json()["rule"] == "view-owner"
    assert gateway.delete(f"/v1/views/{view_id}", headers=BORIS).status_code == 403
    tidied = ok(gateway.put(f"/v1/views/{view_id}", json=spec | {"shared": True, "name": "VPN, urgent"}, headers=SOFIA))
    assert (tidied["name"], tidied["owner"]) == ("VPN, urgent", "agent-ann")
    assert gateway.delete(f"/v1/views/{view_id}", headers=ANN).status_code == 204
    assert ok(gateway.get("/v1/views", headers=BORIS))["views"] == []


def test_a_customer_is_refused_views_and_counts(gateway: httpx.Client) -> None:
    view_id = str(uuid.uuid4())
    for answer in (
        gateway.get("/v1/views", headers=KIM),
        gateway.put(f"/v1/views/{view_id}", json={"name": "My tickets"}, headers=KIM),
        gateway.delete(f"/v1/views/{view_id}", headers=KIM),
        gateway.get("/v1/tickets/counts", params={"queue": "all"}, headers=KIM),
    ):
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_view_with_a_field_it_does_not_know_is_a_problem_naming_the_field(gateway: httpx.Client) -> None:
    view_id = str(uuid.uuid4())
    for body, field in (
        ({"name": "x", "columns": ["number", "colour"]}, "columns.1"),
        ({"name": "x", "filters": {"status": ["asleep"]}}, "filters.status.0"),
        ({"name": "x", "filters": {"mood": "calm"}}, "filters.mood"),
        ({"name": "x", "order": "colour"}, "order"),
        ({"name": ""}, "name"),
    ):
        refused = gateway.put(f"/v1/views/{view_id}", json=body, headers=ANN)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert gateway.get(f"/v1/views/{view_id}", headers=ANN).status_code == 404
