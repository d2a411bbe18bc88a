"""A NUL character (U+0000), which no PostgreSQL text column can hold, on real processes, PostgreSQL
and Kafka: the API refuses it wherever it takes text, naming the field; an event stored with one
before still projects, and the gateway keeps serving."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest

from services.chassis.http.problems import PROBLEM_JSON
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from tests.client import eventually, headers, ticket_form
from tests.harness import Desk, Service
from tests.privacy import desk_intake

TENANT = "acme"


@pytest.fixture
def intake(desk: Desk) -> Service:
    desk.service("routing", "api").start()
    desk.service("sla", "api").start()
    return desk.service("intake", "api").start()


def listed(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    reply = client.get("/v1/tickets", params=params)
    assert reply.status_code == 200, reply.text
    tickets: list[dict[str, Any]] = reply.json()["tickets"]
    return tickets


def refused_field(reply: httpx.Response) -> str:
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"] == PROBLEM_JSON
    fields: list[str] = [error["field"] for error in reply.json()["errors"]]
    assert len(fields) == 1, reply.text
    return fields[0]


def serving(service: Service) -> bool:
    return service.process is not None and service.process.poll() is None


def test_a_nul_character_in_a_ticket_is_refused_and_the_desk_keeps_serving(intake: Service) -> None:
    with httpx.Client(base_url=intake.url, timeout=10.0, headers=headers(TENANT)) as client:
        assert (
            refused_field(client.put("/v1/fields/asset_tag", json={"label": "Asset\u0000", "kind": "text"})) == "label"
        )
        assert client.put("/v1/fields/asset_tag", json={"label": "Asset tag", "kind": "text"}).status_code == 200
        for field, value in (
            ("title", "VPN\u0000drops"),
            ("description", "\u0000"),
            ("requester_id", "customer\u0000-42"),
            ("organisation", "Acme\u0000"),
            ("category", "net\u0000work"),
            ("custom_fields", {"asset_tag": "A-\u00001"}),
        ):
            refused = client.post("/v1/tickets", json=ticket_form(**{field: value}))
            named = "custom_fields.asset_tag" if field == "custom_fields" else field
            assert refused_field(refused) == named
        assert refused_field(client.get("/v1/tickets/search", params={"q": "vpn\u0000"})) == "query.q"
        opened = client.post("/v1/tickets", json=ticket_form())
        assert opened.status_code == 201, opened.text
        comment = client.post(f"/v1/tickets/{opened.json()['id']}/comments", json={"body": "a\u0000b", "public": True})
        assert refused_field(comment) == "body"
        found = eventually(lambda: listed(client), lambda tickets: opened.json()["id"] in {t["id"] for t in tickets})
        assert len(found) == 1
    assert serving(intake), intake.log_tail()


def test_an_event_stored_with_a_nul_in_a_tag_projects_without_stopping_intake(desk: Desk) -> None:
    stored = desk_intake(desk.settings)
    try:
        form = TicketForm("Printer jams", "Tray 2", "customer-1", "email", "hard\x00ware", "incident", "P3",
                          tags=["print\x00er"], organisation="Acme\x00")  # fmt: skip
        ticket_id = str(stored.open_ticket(uuid4(), form, Cause(TENANT, "agent-7", "c", "c")).ticket.id)
    finally:
        stored.close()
    desk.service("routing", "api").start()
    desk.service("sla", "api").start()
    intake = desk.service("intake", "api").start()
    with httpx.Client(base_url=intake.url, timeout=10.0, headers=headers(TENANT)) as client:
        found = eventually(lambda: listed(client), lambda tickets: ticket_id in {t["id"] for t in tickets})
        assert [t["category"] for t in found] == ["hardware"]
        assert [t["id"] for t in listed(client, tag="printer")] == [ticket_id]
        opened = client.post("/v1/tickets", json=ticket_form())
        assert opened.status_code == 201, opened.text
    assert serving(intake), intake.log_tail()
