"""A ticket's life through the gateway API, against real PostgreSQL and Kafka."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from services.analytics import reports
from services.analytics.projections import AnalyticsProjection
from services.chassis.storage.store import tracking_recorder
from tests.client import eventually, headers, ticket_form
from tests.harness import Desk

Json = dict[str, Any]


class Agent:
    """An agent of one tenant working tickets through the gateway."""

    def __init__(self, base_url: str, tenant: str = "acme") -> None:
        self.http = httpx.Client(base_url=base_url, headers=headers(tenant), timeout=10.0)

    def open(self, **fields: Any) -> Json:
        reply = self.http.post("/v1/tickets", json=ticket_form(**fields))
        assert reply.status_code == 201, reply.text
        return reply.json()  # type: ignore[no-any-return]

    def do(self, ticket: Json, action: str, expect: int = 200, **body: Any) -> Json:
        reply = self.http.post(f"/v1/tickets/{ticket['id']}/{action}", json=body)
        assert reply.status_code == expect, reply.text
        return reply.json()  # type: ignore[no-any-return]

    def get(self, ticket: Json, **params: str) -> Json:
        reply = self.http.get(f"/v1/tickets/{ticket['id']}", params=params)
        assert reply.status_code == 200, reply.text
        return reply.json()  # type: ignore[no-any-return]

    def history(self, ticket: Json) -> list[Json]:
        return self.http.get(f"/v1/tickets/{ticket['id']}/history").json()["events"]  # type: ignore[no-any-return]


@pytest.fixture
def agent(desk: Desk) -> Agent:
    desk.env["SERVICEDESK_ANALYTICS_URL"] = desk.service("analytics", "all").start().url
    return Agent(desk.service("intake").start().url)


def test_a_question_is_answered_waited_on_resolved_reopened_and_closed(agent: Agent, desk: Desk) -> None:
    ticket = agent.open(title="Cannot print invoices")
    agent.do(ticket, "start-work", reason="picked from the queue")
    agent.do(ticket, "comments", expect=201, body="Which printer?", public=True, channel="email")
    until = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    pending = agent.do(ticket, "pending", waiting_for="customer", until=until, reason="asked which printer")
    assert (pending["status"], pending["waiting_for"]) == ("pending", "customer")
    agent.do(ticket, "resume", reason="customer answered")
    agent.do(ticket, "resolve", resolution="Driver reinstalled", reason="fixed")
    agent.do(ticket, "reopen", reason="fails again on the 2nd floor")
    agent.do(ticket, "resolve", resolution="Replaced the cable", reason="fixed for good")
    closed = agent.do(ticket, "close", reason="customer confirmed")
    rated = agent.do(ticket, "rating", score=4, comment="Quick, but it took two tries")

    assert closed["status"] == "closed"
    assert rated["rating"] == {"score": 4, "comment": "Quick, but it took two tries"}
    refused = agent.http.post(f"/v1/tickets/{ticket['id']}/reopen", json={"reason": "once more"})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["current_state"] == "closed"
    events = agent.history(ticket)
    assert [e["event"] for e in events] == [
        "opened", "work_started", "comment_added", "marked_pending", "resumed", "resolved", "survey_requested",
        "reopened", "resolved", "survey_requested", "closed", "rated",
    ]  # fmt: skip
    assert events[5]["reason"] == "fixed"
    assert all(e["actor"] == "agent-7" for e in events)
    assert all(e["previous_hash"] == before["hash"] for before, e in itertools.pairwise(events))
    backlog = AnalyticsProjection(tracking_recorder(desk.settings, "analytics"))
    eventually(lambda: backlog.applied_count("intake"), lambda n: n == len(events), timeout=30)
    assert reports.backlog(backlog.view, "acme")["open"] == 0, "a closed ticket leaves the backlog"
    flow = agent.http.get("/v1/reports/flow", params={"bucket": "hour", "channel": "email"}).json()
    assert (flow["opened"], flow["resolved"], flow["reopened"], flow["reopen_rate_percent"]) == (1, 2, 1, 50.0)
    assert agent.http.get("/v1/reports/flow", params={"channel": "chat"}).json()["opened"] == 0
    satisfaction = agent.http.get("/v1/reports/csat", params={"priority": "P2"}).json()
    assert (satisfaction["surveys"], satisfaction["answered"], satisfaction["average_score"]) == (1, 1, 4.0)
    spreadsheet = agent.http.get("/v1/reports/flow", params={"format": "csv"})
    assert spreadsheet.headers["content-type"].startswith("text/csv")
    assert spreadsheet.text.splitlines()[0] == "day,opened,resolved,reopened"


def test_an_illegal_move_names_the_current_and_requested_states(agent: Agent) -> None:
    ticket = agent.open()
    reply = agent.http.post(f"/v1/tickets/{ticket['id']}/reopen", json={"reason": "why not"})
    assert reply.status_code == 409
    problem = reply.json()
    assert (problem["current_state"], problem["requested_state"], problem["command"]) == ("new", "open", "reopen")


def test_a_duplicate_is_merged_into_the_original_and_both_remember(agent: Agent) -> None:
    original = agent.open(title="VPN down")
    duplicate = agent.open(title="VPN is down again")

    merged = agent.do(duplicate, "merge", into=original["id"], reason="same outage")

    assert (merged["status"], merged["merged_into"]) == ("closed", original["id"])
    assert agent.get(original)["merged_from"] == [duplicate["id"]]
    assert agent.history(original)[-1]["event"] == "merge_received"
    again = agent.http.post(f"/v1/tickets/{duplicate['id']}/comments", json={"body": "hi", "public": True})
    assert again.status_code == 409, "a merged ticket is closed for good"


def test_a_second_question_in_a_reply_is_split_into_its_own_ticket(agent: Agent) -> None:
    ticket = agent.open(title="Laptop slow")
    commented = agent.do(ticket, "comments", expect=201, body="Also: my badge no longer opens door 3", public=True)
    comment_id = commented["comments"][-1]["id"]

    reply = agent.http.post(f"/v1/tickets/{ticket['id']}/comments/{comment_id}/split", json={"title": "Badge"})

    assert reply.status_code == 201, reply.text
    new = reply.json()
    assert new["split_from"] == ticket["id"]
    assert new["description"] == "Also: my badge no longer opens door 3"
    assert new["number"] != ticket["number"]
    assert agent.get(ticket)["links"] == {new["id"]: "related"}
    assert agent.history(ticket)[-1]["event"] == "comment_split_off"


def test_a_question_after_closing_opens_a_follow_up_linked_to_the_closed_ticket(agent: Agent) -> None:
    ticket = agent.open()
    agent.do(ticket, "resolve", resolution="done", reason="done")
    agent.do(ticket, "close", reason="confirmed")

    follow_up = agent.open(follow_up_of=ticket["id"])

    assert follow_up["follow_up_of"] == ticket["id"]
    assert agent.get(ticket)["status"] == "closed"


def test_the_ticket_reads_exactly_as_it_was_at_a_past_instant(agent: Agent) -> None:
    ticket = agent.open(priority="P3")
    time.sleep(0.05)
    before_change = datetime.now(UTC)
    time.sleep(0.05)
    agent.http.patch(f"/v1/tickets/{ticket['id']}", json={"priority": "P1", "reason": "CEO affected"})
    agent.do(ticket, "start-work", reason="on it")

    then = agent.get(ticket, as_of=before_change.isoformat())
    now = agent.get(ticket)

    assert (then["priority"], then["status"], then["version"]) == ("P3", "new", 1)
    assert (now["priority"], now["status"]) == ("P1", "open")


def test_a_stale_edit_is_refused_and_a_fresh_one_wins(agent: Agent) -> None:
    ticket = agent.open()
    etag = agent.http.get(f"/v1/tickets/{ticket['id']}").headers["ETag"]
    change = {"priority": "P1", "reason": "outage"}

    first = agent.http.patch(f"/v1/tickets/{ticket['id']}", json=change, headers={"If-Match": etag})
    second = agent.http.patch(
        f"/v1/tickets/{ticket['id']}", json={"priority": "P4", "reason": "not urgent"}, headers={"If-Match": etag}
    )

    assert first.status_code == 200
    assert first.headers["ETag"] != etag
    assert second.status_code == 412
    assert second.json()["current_version"] == 2
    assert agent.get(ticket)["priority"] == "P1"


def test_custom_fields_are_checked_against_the_tenants_definitions(agent: Agent) -> None:
    defined = agent.http.put("/v1/fields/asset_tag", json={"label": "Asset tag", "kind": "text", "required": True})
    assert defined.status_code == 200, defined.text
    agent.http.put("/v1/fields/impact", json={"label": "Impact", "kind": "choice", "choices": ["low", "high"]})

    missing = agent.http.post("/v1/tickets", json=ticket_form())
    wrong = agent.http.post("/v1/tickets", json=ticket_form(custom_fields={"asset_tag": "A-1", "impact": "huge"}))
    ok = agent.open(custom_fields={"asset_tag": "A-1", "impact": "high"})

    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "custom_fields.asset_tag"
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "custom_fields.impact"
    assert ok["custom_fields"] == {"asset_tag": "A-1", "impact": "high"}


def test_an_attached_screenshot_downloads_byte_for_byte(agent: Agent) -> None:
    ticket = agent.open()
    picture = bytes(range(256)) * 64

    uploaded = agent.http.post(
        f"/v1/tickets/{ticket['id']}/attachments", params={"filename": "screen.png"}, content=picture,
        headers={"Content-Type": "image/png"},
    )  # fmt: skip

    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    downloaded = agent.http.get(f"/v1/tickets/{ticket['id']}/attachments/{attachment['id']}")
    assert downloaded.content == picture
    assert downloaded.headers["content-type"] == "image/png"
    assert agent.history(ticket)[-1]["changes"]["sha256"] == attachment["sha256"]


def test_the_agent_finds_a_ticket_by_words_from_a_reply_and_by_its_fields(agent: Agent) -> None:
    printer = agent.open(title="Printer jams", priority="P2", tags=["printer"])
    agent.open(title="Password reset", priority="P4")
    commented = agent.do(printer, "comments", expect=201, body="The fuser unit smells burnt", public=False)

    def search() -> list[str]:
        reply = agent.http.get("/v1/tickets/search", params={"q": "fuser burnt"})
        return [t["id"] for t in reply.json()["tickets"]]

    found = eventually(search, lambda ids: ids != [], timeout=10)
    listed = agent.http.get("/v1/tickets", params={"priority": "P2", "tag": "printer"}).json()["tickets"]

    assert commented["version"] == 2
    assert found == [printer["id"]]
    assert [t["id"] for t in listed] == [printer["id"]]


def test_an_agent_links_the_article_that_solved_the_ticket_kept_through_closing(agent: Agent) -> None:
    ticket = agent.open(title="Printer does not print")
    article = str(uuid4())

    agent.do(ticket, "resolve", resolution="followed the article", reason="done")
    agent.do(ticket, "close", reason="confirmed")
    solved = agent.do(ticket, "solution", article_id=article)

    assert (solved["status"], solved["solution"]) == ("closed", article)
    assert agent.get(ticket)["solution"] == article
    assert agent.history(ticket)[-1]["event"] == "solution_linked"
