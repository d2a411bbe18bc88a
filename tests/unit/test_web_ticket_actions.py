"""The ticket page's actions against an API that answers like the gateway: what is shown to whom, what
is sent, and where a refusal is placed (the browser tests drive the real desk)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from services.web.sessions import Session
from tests.unit.test_web_pages import pages_over

TICKET = "6f1c1a5e-0000-4000-8000-000000000001"
OTHER = "6f1c1a5e-0000-4000-8000-000000000002"
FIELDS = {"seats": {"label": "Seats", "kind": "number", "required": False, "choices": []},
          "plan": {"label": "Plan", "kind": "choice", "required": False, "choices": ["basic", "premium"]}}  # fmt: skip


def ticket(ticket_id: str = TICKET, **changes: Any) -> dict[str, Any]:
    return {
        "id": ticket_id, "number": f"SD-2026-00000{ticket_id[-1]}", "title": f"Ticket {ticket_id[-1]}",
        "description": "It broke.", "status": "open", "status_reason": "", "priority": "P3", "category": "general",
        "type": "incident", "requester_id": "customer-kim", "organisation": "northwind", "group_id": "first-line",
        "agent_id": "agent-ann", "tags": ["vpn"], "custom_fields": {"seats": 3}, "links": {}, "merged_into": None,
        "merged_from": [], "split_from": None, "follow_up_of": None,
        "comments": [{"id": "c-1", "body": "Hello", "public": True, "author_id": "customer-kim", "channel": "web"}],
    } | changes  # fmt: skip


class Api:
    """The gateway's answers by path; what was posted kept."""

    def __init__(self, **tickets: dict[str, Any]) -> None:
        self.tickets = {TICKET: ticket(), OTHER: ticket(OTHER)} | tickets
        self.sent: list[tuple[str, str, Any]] = []
        self.refusal: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method != "GET":
            self.sent.append((request.method, path, json.loads(request.content or b"null")))
            return self.refusal or httpx.Response(200, json=self.tickets[TICKET] | {"group_id": "second-line"})
        if path == "/v1/fields":
            return httpx.Response(200, json={"fields": FIELDS})
        if path == "/v1/routing/groups":
            first = {"group_id": "first-line", "escalates_to": "second-line", "members": ["agent-ann", "agent-bob"]}
            return httpx.Response(200, json={"groups": [first, {"group_id": "second-line", "members": ["agent-vic"]}]})
        if path == "/v1/tickets":
            found = [t for t in self.tickets.values() if t["number"] == request.url.params.get("number")]
            return httpx.Response(200, json={"tickets": found, "next_cursor": None})
        if path.endswith("/history"):
            return httpx.Response(200, json={"events": []})
        if path.endswith("/verify"):
            return httpx.Response(200, json={"intact": True, "checked": 1})
        if path.endswith("/attachments"):
            return httpx.Response(200, json={"attachments": []})
        ticket_id = path.rsplit("/", 1)[-1]
        if path.startswith("/v1/tickets/") and ticket_id in self.tickets:
            return httpx.Response(200, json=self.tickets[ticket_id])
        return httpx.Response(404, json={"title": "Not found"})


def signed_in(tmp_path: Path, api: Api, staff: bool = True) -> tuple[TestClient, Session]:
    client, sign_in = pages_over(tmp_path, api)
    sign_in.person = sign_in.sessions.begin(
        tenant="acme", subject="agent-ann" if staff else "customer-kim", name="Ann",
        roles=["agent"] if staff else ["customer"], groups=["first-line"] if staff else [], access_token="t",
        expires=datetime.now(UTC) + timedelta(hours=1), locale=None, organisation=None,
    )  # fmt: skip
    return client, sign_in.person


def form(person: Session, **fields: str) -> dict[str, str]:
    return {"csrf_token": person.csrf_token} | fields


def test_a_customer_sees_where_their_ticket_went_and_none_of_the_staff_controls(tmp_path: Path) -> None:
    api = Api(**{TICKET: ticket(status="closed", merged_into=OTHER)})
    client, _person = signed_in(tmp_path, api, staff=False)
    page = client.get(f"/tickets/{TICKET}").text
    assert "This ticket was merged into another:" in page
    assert "SD-2026-000002" in page
    for control in ("/merge", "/links", "/escalation", "/tags", "/fields", "/split", "Split into a new ticket"):
        assert control not in page


def test_an_agent_sees_the_forms_made_from_the_field_definitions_and_the_next_tier(tmp_path: Path) -> None:
    client, _person = signed_in(tmp_path, Api(**{TICKET: ticket(links={OTHER: "parent_of"})}))
    page = client.get(f"/tickets/{TICKET}").text
    assert 'id="cf-seats" name="cf-seats" type="text" value="3" inputmode="decimal"' in page
    assert "<option selected>premium</option>" not in page
    assert "<option>premium</option>" in page
    assert "second-line" in page
    assert "Parent of" in page
    assert f'href="/tickets/{OTHER}"' in page
    assert f"/tickets/{TICKET}/comments/c-1/split" in page
    assert 'list="assignable-agents"' in page, "assignment offers the groups and their members"
    assert '<option value="agent-vic">' in page
    assert '<option value="second-line">' in page


def test_a_merge_is_confirmed_naming_both_tickets_before_it_is_sent(tmp_path: Path) -> None:
    api = Api()
    client, person = signed_in(tmp_path, api)
    asked = client.post(f"/tickets/{TICKET}/merge", data=form(person, into="sd-2026-000002", **{"merge-reason": "dup"}))
    assert "Merge SD-2026-000001 into SD-2026-000002?" in asked.text
    assert api.sent == []
    done = client.post(f"/tickets/{TICKET}/merge", data=form(person, into=OTHER, confirmed="yes", form_key="k",
                                                              **{"merge-reason": "dup"}))  # fmt: skip
    assert done.status_code == 303
    assert api.sent == [("POST", f"/v1/tickets/{TICKET}/merge", {"into": OTHER, "reason": "dup"})]


def test_custom_fields_are_sent_as_their_kind_and_a_refused_value_is_named_beside_its_field(tmp_path: Path) -> None:
    api = Api()
    client, person = signed_in(tmp_path, api)
    client.post(f"/tickets/{TICKET}/fields", data=form(person, **{"cf-seats": "12", "cf-plan": ""}))
    assert api.sent[-1][2]["custom_fields"] == {"seats": 12}
    assert api.sent[-1][2]["custom_fields_unset"] == ["plan"]
    problem = {"detail": "invalid field(s): custom_fields.seats",
               "errors": [{"field": "custom_fields.seats", "message": "must be a number"}]}  # fmt: skip
    api.refusal = httpx.Response(422, json=problem)
    refused = client.post(f"/tickets/{TICKET}/fields", data=form(person, **{"cf-seats": "twelve"}))
    assert refused.status_code == 422
    assert '<p id="cf-seats-error" class="error" role="alert">must be a number</p>' in refused.text
    assert 'value="twelve"' in refused.text


def test_an_escalation_out_of_the_agents_groups_says_where_it_went(tmp_path: Path) -> None:
    api = Api()
    client, person = signed_in(tmp_path, api)
    empty = client.post(f"/tickets/{TICKET}/escalation", data=form(person))
    assert empty.status_code == 422
    assert "escalate-reason-error" in empty.text
    done = client.post(f"/tickets/{TICKET}/escalation", data=form(person, **{"escalate-reason": "db"}))
    assert done.headers["location"] == f"/tickets/{TICKET}/escalated?to=second-line"
    assert api.sent[-1] == ("POST", f"/v1/routing/tickets/{TICKET}/escalations", {"reason": "db"})


class ApiWithClock(Api):
    """The gateway with the ticket's SLA clock, chosen by its organisation's own policy."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/v1/sla/tickets/{TICKET}":
            clock: dict[str, Any] = {
                "ticket_id": TICKET, "policy_id": "gold", "calendar": "tokyo-hours", "chosen_by": "organisation",
                "reason": "the organisation's own policy 'gold'", "metrics": {}, "next_due_at": None,
            }  # fmt: skip
            return httpx.Response(200, json=clock)
        return super().__call__(request)


def test_an_agent_sees_the_sla_policy_of_the_tickets_organisation_and_that_it_is_its_own(tmp_path: Path) -> None:
    client, _person = signed_in(tmp_path, ApiWithClock())
    page = client.get(f"/tickets/{TICKET}").text
    assert "<dt>SLA policy</dt><dd>gold · tokyo-hours" in page
    assert "(the organisation's own)" in page
    assert "SLA policy" not in client.get(f"/tickets/{OTHER}").text, "no clock, no policy shown"
