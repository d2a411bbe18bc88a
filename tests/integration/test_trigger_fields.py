"""Triggers on a ticket's custom fields and its language, end to end on real PostgreSQL and Kafka: intake
publishes the values of choice, number and boolean fields (never a text field's) and the ticket's language; the
rules service keeps them in its facts and fires on them; a condition on a field the tenant lacks, or on a text
field, is refused naming `if.custom_fields.<key>`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.client import open_ticket, read_ticket
from tests.harness import Desk
from tests.integration.test_triggers import ADMIN, AGENT, TENANT, history, make, tagged


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    with desk.gateway("rules") as client:
        yield client


def define(client: httpx.Client, key: str, kind: str, choices: list[str] | None = None) -> None:
    body = {"label": key.title(), "kind": kind, "choices": choices or []}
    reply = client.put(f"/v1/fields/{key}", json=body, headers=ADMIN)
    assert reply.status_code == 200, reply.text


def test_a_trigger_on_a_custom_field_fires_when_an_agent_sets_it(gateway: httpx.Client) -> None:
    define(gateway, "product", "choice", ["vpn", "mail"])
    define(gateway, "seats", "number")
    define(gateway, "notes", "text")
    big_vpn: list[dict[str, Any]] = [{"field": "custom_fields.product", "op": "changed_to", "value": "vpn"},
               {"field": "custom_fields.seats", "op": "greater", "value": 25}]  # fmt: skip
    made = make(gateway, name="Big VPN customer", when=["ticket.opened"], **{"if": big_vpn[1:]},
                then={"tags_add": ["big-account"]})  # fmt: skip
    assert made["if"][0]["kind"] == "number"
    changed = make(gateway, name="Became VPN", when=["ticket.custom_fields_changed"], **{"if": big_vpn},
                   then={"tags_add": ["big-vpn"]})  # fmt: skip
    assert changed["if"][0] == {**big_vpn[0], "kind": "choice", "choices": ["vpn", "mail"]}

    ticket_id = open_ticket(gateway, TENANT, custom_fields={"seats": 40, "notes": "Jolanta's team"})
    assert "big-vpn" not in tagged(gateway, ticket_id, "big-account")["tags"]
    reply = gateway.patch(f"/v1/tickets/{ticket_id}", json={"custom_fields": {"product": "vpn"}, "reason": "asked"},
                          headers=AGENT)  # fmt: skip
    assert reply.status_code == 200, reply.text
    tagged(gateway, ticket_id, "big-vpn")
    [applied] = [e for e in history(gateway, ticket_id) if e["event"] == "trigger_applied"
                 and e["changes"]["trigger_id"] == changed["id"]]  # fmt: skip
    assert applied["reason"] == "custom field product changed to vpn and custom field seats is more than 25"

    small = open_ticket(gateway, TENANT, custom_fields={"seats": 3})
    gateway.patch(f"/v1/tickets/{small}", json={"custom_fields": {"product": "vpn"}, "reason": "asked"}, headers=AGENT)
    time.sleep(5)  # time enough for a firing, were it to fire
    assert not {"big-vpn", "big-account"} & set(read_ticket(gateway, TENANT, small)["tags"])


def test_a_trigger_on_the_language_fires_for_russian_tickets_only(gateway: httpx.Client) -> None:
    russian_only = [{"field": "language", "op": "is", "value": "ru"}]
    make(gateway, name="Russian desk", when=["ticket.opened"], **{"if": russian_only},
         then={"group_id": "ru-desk", "tags_add": ["russian"]})  # fmt: skip
    make(gateway, name="Seen", when=["ticket.opened"], then={"tags_add": ["seen"]})
    russian = open_ticket(gateway, TENANT, language="ru")
    english = open_ticket(gateway, TENANT, language="en")
    unsaid = open_ticket(gateway, TENANT)
    assert tagged(gateway, russian, "russian")["group_id"] == "ru-desk"
    for ticket_id in (english, unsaid):
        assert "russian" not in tagged(gateway, ticket_id, "seen")["tags"]


def test_a_condition_on_a_text_or_unknown_custom_field_is_refused_naming_it(gateway: httpx.Client) -> None:
    define(gateway, "notes", "text")
    for key in ("notes", "colour"):
        draft = {"name": "Wrong", "when": ["ticket.opened"], "then": {"tags_add": ["x"]},
                 "if": [{"field": f"custom_fields.{key}", "op": "is", "value": "red"}]}  # fmt: skip
        refused = gateway.post("/v1/triggers", json=draft, headers=ADMIN)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in refused.json()["errors"]] == [f"if.custom_fields.{key}"]
