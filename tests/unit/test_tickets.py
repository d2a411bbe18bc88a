"""Opening tickets, in memory: numbers people can say, never reused; retries open nothing twice."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from schemas.tickets import TicketCommentedV1, TicketCommentedV2
from services.chassis.runtime.logs import JsonFormatter
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime
from services.intake.attachments.blobs import FileBlobStore
from services.intake.http.app import create_app
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.domain import Ticket
from services.intake.tickets.fields import CustomFieldError
from services.intake.tickets.form import TicketForm
from services.intake.tickets.opening import TicketRequest
from services.intake.tickets.publication import public_data
from services.intake.tickets.work import OpenedTicket, TicketNotFoundError
from tests.client import headers, ticket_form
from tests.privacy import memory_intake
from tests.tokens import authenticated, service_token

YEAR = datetime.now(UTC).year


def in_memory_intake() -> Intake:
    return memory_intake()


def a_form() -> TicketForm:
    return TicketForm("Printer jam", "", "c-1", "email", "hardware", "incident", "P3")


def cause(tenant: str = "acme") -> Cause:
    return Cause(tenant, "agent-7", "corr", "cause")


def test_tickets_are_numbered_per_tenant_in_order() -> None:
    intake = in_memory_intake()
    numbers = [intake.open_ticket(uuid4(), a_form(), cause("acme")).ticket.number for _ in range(3)]
    other = intake.open_ticket(uuid4(), a_form(), cause("globex")).ticket.number
    assert numbers == [f"SD-{YEAR}-000001", f"SD-{YEAR}-000002", f"SD-{YEAR}-000003"]
    assert other == f"SD-{YEAR}-000001"


def test_opening_the_same_ticket_twice_returns_the_first_and_takes_no_number() -> None:
    intake = in_memory_intake()
    ticket_id = Ticket.id_for_request("acme", "key-1")
    first = intake.open_ticket(ticket_id, a_form(), cause())
    again = intake.open_ticket(ticket_id, a_form(), cause())
    after = intake.open_ticket(uuid4(), a_form(), cause())
    assert (first.created, again.created) == (True, False)
    assert again.ticket.number == first.ticket.number
    assert after.ticket.number == f"SD-{YEAR}-000002"


def test_openings_asked_for_at_once_share_one_transaction_and_a_bad_one_is_refused_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    intake = in_memory_intake()
    saves: list[int] = []
    save = intake.save

    def counted(*aggregates: Any) -> Any:
        saves.append(len(aggregates))
        return save(*aggregates)

    monkeypatch.setattr(intake, "save", counted)
    first, follow_up_of_nothing, second = intake.open_tickets([
        TicketRequest(uuid4(), a_form(), cause()),
        TicketRequest(uuid4(), a_form(), cause(), follow_up_of=uuid4()),
        TicketRequest(uuid4(), a_form(), cause()),
    ])  # fmt: skip
    assert isinstance(follow_up_of_nothing, TicketNotFoundError)
    assert isinstance(first, OpenedTicket)
    assert isinstance(second, OpenedTicket)
    assert (first.ticket.number, second.ticket.number) == (f"SD-{YEAR}-000001", f"SD-{YEAR}-000002")
    assert saves == [3]  # the counter and both tickets, in one transaction


def test_openings_asked_for_at_once_are_each_checked_against_their_own_tenants_fields() -> None:
    intake = in_memory_intake()
    intake.define_field("acme", "asset", "Asset tag", "text", True, [], "admin-1")  # globex asks for nothing
    with_tag, without_tag, globex, globex_again = intake.open_tickets([
        TicketRequest(uuid4(), replace(a_form(), custom_fields={"asset": "PC-7"}), cause("acme")),
        TicketRequest(uuid4(), a_form(), cause("acme")),
        TicketRequest(uuid4(), a_form(), cause("globex")),
        TicketRequest(uuid4(), replace(a_form(), custom_fields={"asset": "PC-7"}), cause("globex")),
    ])  # fmt: skip
    assert isinstance(with_tag, OpenedTicket)
    assert with_tag.ticket.custom_fields == {"asset": "PC-7"}
    assert isinstance(without_tag, CustomFieldError)
    assert without_tag.key == "asset"
    assert isinstance(globex, OpenedTicket)
    assert isinstance(globex_again, CustomFieldError)  # a field globex never defined
    assert globex_again.key == "asset"


def test_what_an_opening_logs_names_its_own_requests_tenant_and_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    intake = in_memory_intake()
    lines: list[dict[str, Any]] = []
    formatter = JsonFormatter("intake")
    fields = intake._fields

    def logged(tenant: str) -> Any:  # a line logged as a request's opening is checked, in the batch's thread
        record = logging.LogRecord("opening", logging.INFO, __file__, 0, "checking", None, None)
        lines.append(json.loads(formatter.format(record)))
        return fields(tenant)

    monkeypatch.setattr(intake, "_fields", logged)
    acme_trace, globex_trace = "00-" + "a" * 32 + "-" + "1" * 16 + "-01", "00-" + "b" * 32 + "-" + "2" * 16 + "-01"
    acme_id, globex_id = uuid4(), uuid4()
    intake.open_tickets([
        TicketRequest(acme_id, a_form(), Cause("acme", "agent-7", "corr", "cause", acme_trace)),
        TicketRequest(globex_id, a_form(), Cause("globex", "agent-8", "corr", "cause", globex_trace)),
    ])  # fmt: skip
    assert [(line["tenant"], line["trace_id"], line["ticket_id"]) for line in lines] == [
        ("acme", "a" * 32, str(acme_id)), ("globex", "b" * 32, str(globex_id))
    ]  # fmt: skip


def test_a_new_ticket_records_who_opened_it_and_why() -> None:
    intake = in_memory_intake()
    opened = intake.open_ticket(uuid4(), a_form(), Cause("acme", "agent-7", "corr-1", "http:1", "00-abc-def-01"))
    ticket = intake.get_ticket(opened.ticket.id, "acme")
    assert ticket.status == "new"
    stored = list(intake.events.get(opened.ticket.id))
    assert isinstance(stored[0], Ticket.Opened)
    assert stored[0].actor == "agent-7"
    assert stored[0].metadata == {
        "correlation_id": "corr-1", "causation_id": "http:1", "traceparent": "00-abc-def-01",
        "previous_hash": "0" * 64,
    }  # fmt: skip


def test_a_comment_records_whether_staff_the_requester_or_someone_else_wrote_it() -> None:
    intake = in_memory_intake()
    ticket_id = intake.open_ticket(uuid4(), a_form(), cause()).ticket.id  # requested by c-1
    intake.comment(ticket_id, cause(), "c1", "Try again", True, "api", staff=True)
    intake.comment(ticket_id, Cause("acme", "c-1", "corr", "cause"), "c2", "Still broken", True, "portal", staff=False)
    intake.comment(ticket_id, Cause("acme", "c-9", "corr", "cause"), "c3", "Here too", True, "portal", staff=False)
    comments = [e for e in intake.events.get(ticket_id) if isinstance(e, Ticket.CommentAdded)]
    published = [public_data(e) for e in comments]
    assert all(isinstance(data, TicketCommentedV2) for data in published)
    assert [getattr(data, "author_kind", None) for data in published] == ["staff", "requester", "other"]


def test_a_comment_stored_before_its_author_kind_was_recorded_is_published_as_it_was_then() -> None:
    intake = in_memory_intake()
    ticket_id = intake.open_ticket(uuid4(), a_form(), cause()).ticket.id
    intake.comment(ticket_id, cause(), "c1", "Try again", True, "api", staff=True)
    stored = intake.mapper.to_stored_event(list(intake.events.get(ticket_id))[-1])
    state = intake.mapper.transcoder.decode(stored.state)
    del state["author_kind"]
    state["class_version"] = 1
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                      intake.mapper.transcoder.encode(state))  # fmt: skip
    event = intake.mapper.to_domain_event(old)
    assert isinstance(event, Ticket.CommentAdded)
    assert event.author_kind is None
    assert type(public_data(event)) is TicketCommentedV1


@pytest.fixture
def api(tmp_path: Path) -> TestClient:
    runtime = Runtime("intake", Metrics("intake"))
    return TestClient(
        create_app(authenticated(runtime.app()), in_memory_intake(), FileBlobStore(tmp_path), max_upload=1024)
    )


def test_bad_input_gets_a_problem_naming_each_field(api: TestClient) -> None:
    reply = api.post("/v1/tickets", json=ticket_form(title="", priority="P9", color="red"), headers=headers("acme"))
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    problem = reply.json()
    assert {e["field"] for e in problem["errors"]} == {"title", "priority", "color"}
    assert "title" in problem["detail"]


def test_a_request_without_credentials_is_refused(api: TestClient) -> None:
    reply = api.post("/v1/tickets", json=ticket_form())
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert reply.json()["rule"] == "authorization"


def test_a_ticket_of_another_tenant_is_not_found(api: TestClient) -> None:
    opened = api.post("/v1/tickets", json=ticket_form(), headers=headers("acme")).json()
    assert api.get(f"/v1/tickets/{opened['id']}", headers=headers("acme")).status_code == 200
    reply = api.get(f"/v1/tickets/{opened['id']}", headers=headers("globex"))
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"


def test_the_event_feed_serves_the_tenants_public_events_in_store_order(api: TestClient) -> None:
    ids = [api.post("/v1/tickets", json=ticket_form(), headers=headers("acme")).json()["id"] for _ in range(3)]
    api.post("/v1/tickets", json=ticket_form(), headers=headers("globex"))
    page = api.get("/v1/events", params={"after": 0, "limit": 1000}, headers=headers("acme")).json()
    assert [event["subject"] for event in page["events"]] == ids
    positions = [event["position"] for event in page["events"]]
    assert positions == sorted(positions)
    rest = api.get("/v1/events", params={"after": page["next_after"]}, headers=headers("acme")).json()
    assert rest["events"] == [], "another tenant's ticket is not in this tenant's feed"
    internal = {"Authorization": f"Bearer {service_token()}"}
    everything = api.get("/internal/events", params={"after": 0, "limit": 1000}, headers=internal).json()["events"]
    assert {event["tenant"] for event in everything} == {"acme", "globex"}
    refused = api.get("/internal/events", headers=headers("acme"))
    assert refused.status_code == 403, "a tenant's admin does not read every tenant's events"


def test_the_event_feed_keeps_only_the_types_asked_for(api: TestClient) -> None:
    opened = api.post("/v1/tickets", json=ticket_form(), headers=headers("acme")).json()
    api.post(f"/v1/tickets/{opened['id']}/start-work", json={"reason": "mine"}, headers=headers("acme"))
    page = api.get("/v1/events", params={"types": "ticket.status_changed"}, headers=headers("acme")).json()
    assert [(event["type"], event["data"]["change"]) for event in page["events"]] == [
        ("ticket.status_changed", "work_started")]  # fmt: skip


def test_a_long_poll_waits_for_the_next_event_and_answers_empty_at_its_deadline(api: TestClient) -> None:
    started = time.monotonic()
    page = api.get("/v1/events", params={"after": 0, "wait": 0.5}, headers=headers("acme")).json()
    assert page["events"] == []
    assert time.monotonic() - started >= 0.5


def test_tickets_opened_at_once_get_distinct_dense_numbers() -> None:
    intake = in_memory_intake()
    with ThreadPoolExecutor(16) as pool:
        opened = list(pool.map(lambda _: intake.open_ticket(uuid4(), a_form(), cause()), range(200)))
    numbers = sorted(o.ticket.number for o in opened)
    assert numbers == [f"SD-{YEAR}-{n:06d}" for n in range(1, 201)]
    assert len({o.position for o in opened}) == 200


def test_an_unknown_address_gets_a_problem_too(api: TestClient) -> None:
    reply = api.get("/v1/nothing-here", headers=headers("acme"))
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["title"] == "Not Found"


def test_a_tag_added_and_removed_at_once_is_refused(api: TestClient) -> None:
    opened = api.post("/v1/tickets", json=ticket_form(), headers=headers("acme")).json()
    change = {"tags_add": ["vip"], "tags_remove": ["vip"], "reason": "unsure"}
    reply = api.patch(f"/v1/tickets/{opened['id']}", json=change, headers=headers("acme"))
    assert reply.status_code == 422
    assert "vip" in reply.json()["errors"][0]["message"]
