"""`Idempotency-Key` through the gateway on real PostgreSQL and Kafka: a key is its caller's own,
a retry is carried out once and answered as a GET would answer, a key reused for another request
is refused."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.chassis.storage.idempotency import REUSED_RULE
from tests.client import addresses_of, headers, ticket_form
from tests.harness import Desk
from tests.tokens import token


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
    assert addresses_of(agent, "acme", theirs.json()["requester_id"]) == [("chat", "dave")], "the person dave is"
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


def test_an_agent_retrying_a_split_gets_no_ticket_routed_out_of_their_groups(gateway: str) -> None:
    admin = person(gateway, "admin-1", "admin")
    signed_in = {"Authorization": f"Bearer {token('acme', 'agent-x', ('agent',), groups=('network',))}"}
    agent = httpx.Client(base_url=gateway, headers=signed_in, timeout=10.0)
    ticket_id = admin.post("/v1/tickets", json=ticket_form()).json()["id"]
    path = f"/v1/tickets/{ticket_id}"
    assert admin.put(f"{path}/assignment", json={"group_id": "network", "reason": "vpn"}).status_code == 200
    asked = admin.post(f"{path}/comments", json={"body": "Also my printer is broken", "public": True})
    comment_id = asked.json()["comments"][-1]["id"]
    split = post(agent, f"{path}/comments/{comment_id}/split", "split-1", {"title": "Printer broken"})
    assert split.status_code == 201, split.text
    new_id = split.json()["id"]
    moved = admin.put(f"/v1/tickets/{new_id}/assignment", json={"group_id": "printers", "reason": "printers"})
    assert moved.status_code == 200, moved.text
    assert agent.get(f"/v1/tickets/{new_id}").status_code == 404

    retried = post(agent, f"{path}/comments/{comment_id}/split", "split-1", {"title": "Printer broken"})

    assert retried.status_code == 404, "the retry answers as a GET answers"
    assert "printer" not in retried.text.lower()


def test_an_internal_note_cannot_be_split_into_a_ticket_the_requester_reads(gateway: str) -> None:
    agent, carol = person(gateway, "agent-7", "admin"), person(gateway, "carol", "customer")
    ticket_id = carol.post("/v1/tickets", json=ticket_form(title="Invoice missing")).json()["id"]
    path = f"/v1/tickets/{ticket_id}"
    noted = agent.post(f"{path}/comments", json={"body": "Suspect fraud by this customer", "public": False})
    note_id = noted.json()["comments"][-1]["id"]

    refused = agent.post(f"{path}/comments/{note_id}/split", json={"title": "Fraud check"})

    assert refused.status_code == 422, refused.text
    assert refused.json()["rule"] == "internal-note-split"
    events = [event["event"] for event in agent.get(f"{path}/history").json()["events"]]
    assert "comment_split_off" not in events
    assert agent.get(path).json()["links"] == {}


def test_a_file_sent_again_under_a_used_key_is_refused_without_being_stored(desk: Desk, gateway: str) -> None:
    agent = person(gateway, "agent-7", "admin")
    ticket_id = agent.post("/v1/tickets", json=ticket_form()).json()["id"]
    first, other = b"%PDF-1.4 the invoice\n" * 50, f"%PDF-1.4 another invoice {uuid.uuid4()}\n".encode() * 50

    def upload(content: bytes) -> httpx.Response:
        keyed = {"content-type": "application/pdf", "Idempotency-Key": "file-1"}
        return agent.post(f"/v1/tickets/{ticket_id}/attachments", params={"filename": "invoice.pdf"},
                          content=content, headers=keyed)  # fmt: skip

    assert upload(first).status_code == 201
    refused = upload(other)

    assert refused.status_code == 422, refused.text
    assert refused.json()["rule"] == REUSED_RULE
    assert list((desk.settings.data_dir / "blobs").rglob(hashlib.sha256(other).hexdigest())) == [], "no orphan file"
    assert len(agent.get(f"/v1/tickets/{ticket_id}/attachments").json()["attachments"]) == 1


def test_a_retry_of_marking_pending_after_its_time_passed_is_answered_as_the_first_time(gateway: str) -> None:
    agent = person(gateway, "agent-7", "admin")
    ticket_id = agent.post("/v1/tickets", json=ticket_form()).json()["id"]
    path = f"/v1/tickets/{ticket_id}"
    assert post(agent, f"{path}/start-work", "start-9", {"reason": "picked up"}).status_code == 200
    until = datetime.now(UTC) + timedelta(seconds=2)
    body = {"reason": "asked for logs", "waiting_for": "customer", "until": until.isoformat()}
    assert post(agent, f"{path}/pending", "pending-9", body).status_code == 200
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.2)

    retried = post(agent, f"{path}/pending", "pending-9", body)
    unkeyed = agent.post(f"{path}/pending", json=body)

    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending"
    assert unkeyed.status_code == 422, "a new request still names a time to come"
    assert unkeyed.json()["errors"][0]["field"] == "until"


def test_a_retried_webhook_subscription_subscribes_once(gateway: str) -> None:
    admin = person(gateway, "admin-1", "admin")
    allowed = admin.put("/v1/webhooks/settings/private-network", json={"allow_private_network": True})
    assert allowed.status_code == 200, allowed.text
    hook = {"url": "http://127.0.0.1:9/desk", "types": ["ticket.opened"]}

    first, retried = (post(admin, "/v1/webhooks", "hook-1", hook) for _ in range(2))
    reused = post(admin, "/v1/webhooks", "hook-1", hook | {"url": "http://127.0.0.1:9/other"})

    assert (first.status_code, retried.status_code) == (201, 200), retried.text
    assert retried.json() == first.json(), "the same subscription, its secret shown to the same caller again"
    assert (reused.status_code, reused.json()["rule"]) == (422, REUSED_RULE)
    assert [w["id"] for w in admin.get("/v1/webhooks").json()["webhooks"]] == [first.json()["id"]]


def test_a_retried_api_key_issue_leaves_one_live_key(gateway: str) -> None:
    admin, other_admin = person(gateway, "admin-1", "admin"), person(gateway, "admin-2", "admin")
    asked = {"name": "crm sync", "role": "agent", "groups": ["billing"]}

    first, retried = (post(admin, "/v1/api-keys", "key-1", asked) for _ in range(2))
    theirs = post(other_admin, "/v1/api-keys", "key-1", asked)

    assert (first.status_code, retried.status_code) == (201, 200), retried.text
    assert retried.json()["id"] == first.json()["id"]
    assert "key" not in retried.json(), "only the key's hash is kept: it is shown once"
    assert theirs.status_code == 201, "another admin's same key is their own request"
    assert theirs.json()["id"] != first.json()["id"]
    listed = admin.get("/v1/api-keys").json()["api_keys"]
    assert sorted(k["id"] for k in listed) == sorted([first.json()["id"], theirs.json()["id"]])
