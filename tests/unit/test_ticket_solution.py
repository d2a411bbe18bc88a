"""The knowledge base article that solved a ticket: linked by an agent, kept on the ticket, in its history
and published as `ticket.solution_linked`."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from schemas.tickets import TicketSolutionLinkedV1
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.intake.attachments.blobs import FileBlobStore
from services.intake.http.app import create_app
from services.intake.tickets.cause import Cause
from services.intake.tickets.domain import Ticket
from services.intake.tickets.form import TicketForm
from services.intake.tickets.publication import public_data
from tests.client import headers, ticket_form
from tests.privacy import memory_intake
from tests.tokens import authenticated


def test_linking_the_same_article_twice_records_it_once_and_another_replaces_it() -> None:
    intake = memory_intake()
    cause = Cause("acme", "agent-7", "corr", "cause")
    form = TicketForm("Printer jam", "", "c-1", "email", "hardware", "incident", "P3")
    ticket = intake.open_ticket(uuid4(), form, cause).ticket
    first, second = str(uuid4()), str(uuid4())

    intake.link_solution(ticket.id, cause, first)
    again = intake.link_solution(ticket.id, cause, first)
    replaced = intake.link_solution(ticket.id, cause, second)

    events = intake.repository.event_store.get(ticket.id)
    linked = [e for e in events if isinstance(e, Ticket.SolutionLinked)]
    assert (again.solution, replaced.solution) == (first, second)
    assert [e.article_id for e in linked] == [first, second]
    assert public_data(linked[0]) == TicketSolutionLinkedV1(ticket_id=str(ticket.id), article_id=first)


@pytest.fixture
def api(tmp_path: Path) -> TestClient:
    runtime = Runtime("intake", Metrics("intake"))
    return TestClient(
        create_app(authenticated(runtime.app()), memory_intake(), FileBlobStore(tmp_path), max_upload=1024)
    )


def test_an_agent_links_the_solution_and_the_ticket_its_history_and_its_events_say_so(api: TestClient) -> None:
    agent = headers("acme", "agent-7", ("agent",))
    opened = api.post("/v1/tickets", json=ticket_form(), headers=agent).json()
    assert opened["solution"] is None
    article = str(uuid4())

    solved = api.post(f"/v1/tickets/{opened['id']}/solution", json={"article_id": article}, headers=agent)

    assert solved.status_code == 200, solved.text
    assert solved.json()["solution"] == article
    history = api.get(f"/v1/tickets/{opened['id']}/history", headers=agent).json()["events"]
    assert (history[-1]["event"], history[-1]["changes"]) == ("solution_linked", {"article_id": article})
    page = api.get("/v1/events", params={"types": "ticket.solution_linked"}, headers=headers("acme")).json()
    assert [e["data"] for e in page["events"]] == [{"ticket_id": opened["id"], "article_id": article}]


@pytest.mark.parametrize("body", [{"article_id": ""}, {"article_id": "not-an-article"}, {}])
def test_a_solution_without_a_well_formed_article_id_is_refused_naming_it(
    api: TestClient, body: dict[str, str]
) -> None:
    opened = api.post("/v1/tickets", json=ticket_form(), headers=headers("acme")).json()
    reply = api.post(f"/v1/tickets/{opened['id']}/solution", json=body, headers=headers("acme"))
    assert reply.status_code == 422
    assert [e["field"] for e in reply.json()["errors"]] == ["article_id"]


def test_a_customer_may_not_link_a_solution(api: TestClient) -> None:
    carol = headers("acme", "carol", ("customer",))
    opened = api.post("/v1/tickets", json=ticket_form(requester_id="carol"), headers=carol).json()
    reply = api.post(f"/v1/tickets/{opened['id']}/solution", json={"article_id": str(uuid4())}, headers=carol)
    assert reply.status_code == 403
    assert api.get(f"/v1/tickets/{opened['id']}", headers=carol).json()["solution"] is None
