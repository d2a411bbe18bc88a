"""`Idempotency-Key` through the gateway on real PostgreSQL and Kafka: a key is its caller's own,
a retry is carried out once and answered as a GET would answer, a key reused for another request
is refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.chassis.idempotency import REUSED_RULE
from tests.client import headers, ticket_form
from tests.harness import Desk


def person(gateway: str, actor: str, role: str) -> httpx.Client:
    return httpx.Client(base_url=gateway, headers=headers("acme", actor, (role,)), timeout=10.0)


@pytest.fixture
def gateway(desk: Desk) -> str:
    return desk.service("intake", "api").start().url


def post(client: httpx.Client, path: str, key: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(path, json=body, headers={"Idempotency-Key": key})


def test_a_second_customer_reusing_a_key_gets_no_one_elses_ticket(gateway: str) -> None:
    carol, dave, agent = person(gateway, "carol", "customer"), person(gateway, "dave", "customer"), \
        person(gateway, "agent-7", "admin")  # fmt: skip
    form = ticket_form(title="Invoice missing", description="March is not there.")
    mine = post(carol, "/v1/tickets", "web-form-1", form)
    assert mine.status_code == 201, mine.text
    ticket_id = mine.json()["id"]
    note = agent.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "Suspect fraud", "public": False})
    assert note.status_code == 201, note.text

    theirs = post(dave, "/v1/tickets", "web-form-1", form)
    again = post(carol, "/v1/tickets", "web-form-1", form)

    assert theirs.status_code == 201, "dave's request is his own: a new ticket"
    assert theirs.json()["id"] != ticket_id
    assert theirs.json()["requester_id"] == "dave"
    assert "Suspect fraud" not in theirs.text
    assert (again.status_code, again.json()["id"]) == (200, ticket_id), "carol's retry finds her ticket"
    assert again.json()["comments"] == [], "answered as her GET answers: without the internal note"
    assert dave.get(f"/v1/tickets/{ticket_id}").status_code == 404


def test_a_reused_key_with_another_body_is_refused(gateway: str) -> None:
    carol, agent = person(gateway, "carol", "customer"), person(gateway, "agent-7", "admin")
    first = post(carol, "/v1/tickets", "web-form-2", ticket_form(title="Invoice missing"))
    assert first.status_code == 201, first.text
    ticket_id = first.json()["id"]
    comment = post(agent, f"/v1/tickets/{ticket_id}/comments", "reply-1", {"body": "Looking", "public": True})
    assert comment.status_code == 201, comment.text

    refusals = [
        post(carol, "/v1/tickets", "web-form-2", ticket_form(title="Refund please")),
        post(agent, f"/v1/tickets/{ticket_id}/comments", "reply-1", {"body": "Found it", "public": True}),
        post(agent, f"/v1/tickets/{ticket_id}/start-work", "reply-1", {"reason": "same key, another request"}),
    ]

    for refused in refusals:
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["rule"] == REUSED_RULE
    ticket = agent.get(f"/v1/tickets/{ticket_id}").json()
    assert (ticket["title"], ticket["status"]) == ("Invoice missing", "new")
    assert [c["body"] for c in ticket["comments"]] == ["Looking"]


def test_a_retried_comment_is_recorded_once(gateway: str) -> None:
    agent = person(gateway, "agent-7", "admin")
    ticket_id = agent.post("/v1/tickets", json=ticket_form()).json()["id"]
    path = f"/v1/tickets/{ticket_id}"

    comments = [post(agent, f"{path}/comments", "reply-7", {"body": "Which printer?", "public": True})
                for _ in range(2)]  # fmt: skip
    started = [post(agent, f"{path}/start-work", "start-7", {"reason": "picked up"}) for _ in range(2)]
    picture = b"\x89PNG\r\n\x1a\n" + b"pixels" * 100
    uploads = [agent.post(f"{path}/attachments", params={"filename": "screen.png"}, content=picture,
                          headers={"content-type": "image/png", "Idempotency-Key": "upload-7"})
               for _ in range(2)]  # fmt: skip

    assert [reply.status_code for reply in comments] == [201, 201]
    assert [reply.status_code for reply in started] == [200, 200], "the retry is answered, not a 409"
    assert [reply.status_code for reply in uploads] == [201, 201]
    assert uploads[0].json()["id"] == uploads[1].json()["id"]
    events = [event["event"] for event in agent.get(f"{path}/history").json()["events"]]
    assert events == ["opened", "comment_added", "work_started", "attachment_added"]
    ticket = agent.get(path).json()
    assert [c["body"] for c in ticket["comments"]] == ["Which printer?"]
    assert len(ticket["attachments"]) == 1
