"""Macros through the gateway on real PostgreSQL and Kafka, with analytics behind it: made, revised and
retired as versions; personal ones their owner's alone; applied once, in the requester's language, as one
save led by the macro; a body that does not render refused when saved; their use counted per macro."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.intake.tickets.domain import Ticket
from tests.client import eventually, open_ticket
from tests.harness import Desk
from tests.mail import a_message, send, with_mailboxes
from tests.tokens import token

TENANT = "acme"


def person(subject: str, *roles: str, groups: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(TENANT, subject, roles=roles, groups=groups, name='Boris Agentov')}"}


AGENT = person("agent-1", "agent", groups=("network",))
COLLEAGUE = person("agent-2", "agent", groups=("billing",))
SUPERVISOR = person("boss-1", "supervisor")
CUSTOMER = person("customer-42", "customer")

REPLY = {
    "en": "Hello {{ requester.name }}, we restarted the VPN for {{ ticket.number }}. {{ agent.name }}",
    "ru": "Здравствуйте, {{ requester.name }}! VPN по заявке {{ ticket.number }} перезапущен. {{ agent.name }}",
}


@pytest.fixture
def desk_with_mail(desk: Desk) -> Iterator[tuple[httpx.Client, int]]:
    port = with_mailboxes(desk)
    with desk.gateway("analytics") as client:
        yield client, port


@pytest.fixture
def gateway(desk_with_mail: tuple[httpx.Client, int]) -> httpx.Client:
    return desk_with_mail[0]


def make(client: httpx.Client, who: dict[str, str], **spec: Any) -> dict[str, Any]:
    body = {"title": "VPN restarted", "body": REPLY} | spec
    made = client.post("/v1/macros", json=body, headers=who)
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def listed(client: httpx.Client, who: dict[str, str], **query: str) -> list[str]:
    reply = client.get("/v1/macros", params=query, headers=who)
    assert reply.status_code == 200, reply.text
    return [m["title"] for m in reply.json()["macros"]]


def test_a_macro_is_revised_and_retired_as_new_versions_with_its_history(gateway: httpx.Client) -> None:
    macro = make(gateway, AGENT, title="VPN restarted")
    url = f"/v1/macros/{macro['id']}"

    revised = gateway.patch(url, json={"title": "VPN restarted again"}, headers=AGENT | {"If-Match": '"1"'})
    stale = gateway.patch(url, json={"title": "Too late"}, headers=AGENT | {"If-Match": '"1"'})
    retired = gateway.delete(url, headers=AGENT | {"If-Match": '"2"'})
    versions = gateway.get(f"{url}/versions", headers=AGENT).json()["versions"]

    assert (revised.status_code, revised.json()["version"], revised.headers["ETag"]) == (200, 2, '"2"')
    assert stale.status_code == 412
    assert retired.status_code == 204
    assert [(v["version"], v["event"], v["actor"]) for v in versions] == [
        (1, "macro.created", "agent-1"), (2, "macro.revised", "agent-1"), (3, "macro.retired", "agent-1")
    ]  # fmt: skip
    assert [v["spec"]["title"] for v in versions[:2]] == ["VPN restarted", "VPN restarted again"]
    assert gateway.get(url, headers=AGENT).json()["retired"] is True
    assert listed(gateway, AGENT) == []


def test_a_revision_that_gives_a_part_as_null_leaves_it_as_it_is(gateway: httpx.Client) -> None:
    macro = make(gateway, AGENT, title="VPN restarted")
    change = {"title": None, "groups": None, "visibility": None, "actions": {"tags_add": ["vpn"]}}
    revised = gateway.patch(f"/v1/macros/{macro['id']}", json=change, headers=AGENT)
    assert revised.status_code == 200, revised.text
    assert (revised.json()["title"], revised.json()["groups"]) == ("VPN restarted", [])
    assert revised.json()["actions"]["tags_add"] == ["vpn"]


def test_personal_macros_are_their_owners_and_shared_ones_their_groups(gateway: httpx.Client) -> None:
    mine = make(gateway, AGENT, title="My VPN answer")
    make(gateway, SUPERVISOR, title="Network greeting", scope="shared", groups=["network"])
    make(gateway, SUPERVISOR, title="Billing greeting", scope="shared", groups=["billing"])
    make(gateway, SUPERVISOR, title="Everyone's thanks", scope="shared", body={"en": "Thanks!"})
    refused = gateway.post("/v1/macros", json={"title": "x", "body": {"en": "x"}, "scope": "shared"}, headers=AGENT)

    assert listed(gateway, AGENT) == ["My VPN answer", "Network greeting", "Everyone's thanks"]
    assert listed(gateway, COLLEAGUE) == ["Billing greeting", "Everyone's thanks"]
    assert listed(gateway, AGENT, q="greet") == ["Network greeting"]
    assert listed(gateway, AGENT, language="ru") == ["My VPN answer", "Network greeting"]
    assert listed(gateway, SUPERVISOR, group="billing") == ["Billing greeting", "Everyone's thanks"]
    assert refused.status_code == 403
    assert gateway.get(f"/v1/macros/{mine['id']}", headers=COLLEAGUE).status_code == 404
    assert gateway.delete(f"/v1/macros/{mine['id']}", headers=SUPERVISOR).status_code == 404


def test_a_body_that_does_not_render_is_refused_when_saved_naming_its_language(gateway: httpx.Client) -> None:
    broken = {"en": "Hello {{ requester.name }}", "ru": "Здравствуйте, {{ requester.nickname }"}
    refused = gateway.post("/v1/macros", json={"title": "Broken", "body": broken}, headers=AGENT)
    unknown = gateway.post("/v1/macros", json={"title": "Unknown", "body": {"en": "{{ secret }}"}}, headers=AGENT)
    field = gateway.post(
        "/v1/macros", json={"title": "F", "body": {"en": "x"}, "actions": {"custom_fields": {"nope": 1}}}, headers=AGENT
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in refused.json()["errors"]] == ["body.ru"]
    assert [e["field"] for e in unknown.json()["errors"]] == ["body.en"]
    assert [e["field"] for e in field.json()["errors"]] == ["actions.custom_fields.nope"]
    assert listed(gateway, AGENT) == []


def test_a_customer_neither_sees_nor_applies_macros(gateway: httpx.Client) -> None:
    macro = make(gateway, AGENT)
    ticket_id = open_ticket(gateway, TENANT, requester_id="customer-42")

    assert gateway.get("/v1/macros", headers=CUSTOMER).status_code == 403
    assert gateway.get(f"/v1/macros/{macro['id']}", headers=CUSTOMER).status_code == 403
    assert gateway.post(f"/v1/tickets/{ticket_id}/macros/{macro['id']}", headers=CUSTOMER).status_code == 403
    assert gateway.post(f"/v1/tickets/{ticket_id}/macros/{macro['id']}/preview", headers=CUSTOMER).status_code == 403


def test_an_agent_applies_a_macro_once_in_the_requesters_language_and_its_use_is_counted(
    desk_with_mail: tuple[httpx.Client, int],
) -> None:
    gateway, port = desk_with_mail
    mail = a_message("VPN не работает", "VPN отключается.", sender="Анна Иванова <anna@customer.example>")
    mail["Content-Language"] = "ru"
    code, text = send(port, mail)
    assert code == 250, text
    ticket_id = str(Ticket.id_for_request(TENANT, f"email:{mail['Message-ID']}"))
    actions = {"status": "pending", "status_reason": "waiting for the customer to test", "priority": "P1",
               "tags_add": ["vpn-restarted"]}  # fmt: skip
    macro = make(gateway, AGENT, actions=actions)
    apply = f"/v1/tickets/{ticket_id}/macros/{macro['id']}"
    keyed = AGENT | {"Idempotency-Key": "apply-once"}

    preview = gateway.post(f"{apply}/preview", headers=AGENT)
    applied = gateway.post(apply, headers=keyed)
    again = gateway.post(apply, headers=keyed)
    english = gateway.post(f"{apply}/preview", json={"language": "en"}, headers=AGENT).json()

    assert preview.status_code == 200, preview.text
    ticket = applied.json()
    assert applied.status_code == 200, applied.text
    assert preview.json()["language"] == "ru"
    number = ticket["number"]
    reply = f"Здравствуйте, Анна Иванова! VPN по заявке {number} перезапущен. Boris Agentov"
    assert preview.json()["body"] == reply
    assert english["body"] == f"Hello Анна Иванова, we restarted the VPN for {number}. Boris Agentov"
    assert (again.status_code, again.json()["version"]) == (200, ticket["version"])
    assert [(c["body"], c["public"], c["author_id"]) for c in ticket["comments"]] == [(reply, True, "agent-1")]
    assert (ticket["status"], ticket["priority"], "vpn-restarted" in ticket["tags"]) == ("pending", "P1", True)
    history = gateway.get(f"/v1/tickets/{ticket_id}/history", headers=AGENT).json()["events"]
    start = [e["event"] for e in history].index("macro_applied")
    saved = history[start:]
    assert [e["event"] for e in saved] == [
        "macro_applied", "comment_added", "priority_changed", "tags_changed", "marked_pending"
    ]  # fmt: skip
    assert (saved[0]["changes"]["macro_id"], saved[0]["changes"]["macro_version"]) == (macro["id"], 1)
    assert len({e["correlation_id"] for e in saved}) == 1
    assert saved[-1]["reason"] == "waiting for the customer to test"

    def report() -> dict[str, Any]:
        reply = gateway.get("/v1/reports/macros", headers=SUPERVISOR)
        assert reply.status_code == 200, reply.text
        return reply.json()  # type: ignore[no-any-return]

    counted = eventually(report, lambda r: r["uses"] >= 1, timeout=60)
    assert counted["macros"] == [{"macro_id": macro["id"], "uses": 1, "agents": [{"agent_id": "agent-1", "uses": 1}]}]
