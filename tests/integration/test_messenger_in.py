"""The Telegram bot's webhook and the web chat socket, against a real intake process (PostgreSQL, Kafka)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from services.intake.tickets.domain import Ticket
from tests.client import addresses_of, headers, read_ticket
from tests.harness import Desk, free_port
from tests.tokens import token

TENANT = "acme"
SECRET = "acme-bot-webhook-secret"
CHAT = 5550001


@pytest.fixture
def gateway(desk: Desk) -> Iterator[httpx.Client]:
    bots = {TENANT: {"token": "123:abc", "webhook_secret": SECRET, "hashtags": ["#support", "#bug"],
                     "group": "first-line"}}  # fmt: skip
    desk.env |= {"SERVICEDESK_TELEGRAM_BOTS": json.dumps(bots), "SERVICEDESK_CHAT_POLL_SECONDS": "0.1",
                 "SERVICEDESK_SMTP_LISTEN_PORT": str(free_port())}  # not 2525: other desks may run beside  # fmt: skip
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=30.0) as client:
        yield client


def update(update_id: int, message_id: int, text: str, reply_to: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id, "date": 1764590000, "text": text, "chat": {"id": CHAT, "type": "private"},
        "from": {"id": 4711, "is_bot": False, "first_name": "Ivan", "last_name": "Petrov", "language_code": "ru"},
    }  # fmt: skip
    if reply_to is not None:
        message["reply_to_message"] = {"message_id": reply_to, "date": 1764590000, "chat": {"id": CHAT}}
    return {"update_id": update_id, "message": message}


def post(client: httpx.Client, body: Any, secret: str | None = SECRET) -> httpx.Response:
    extra = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post(f"/v1/channels/telegram/{TENANT}", json=body, headers=extra)


def test_a_hashtag_opens_a_ticket_a_reply_comments_and_nothing_else_does(gateway: httpx.Client) -> None:
    opened = post(gateway, update(1, 10, "#support Принтер не печатает"))
    assert opened.status_code == 200, opened.text
    assert opened.json()["outcome"] == "opened"
    ticket_id = opened.json()["ticket_id"]
    assert ticket_id == str(Ticket.id_for_request(TENANT, f"telegram:{CHAT}:10"))
    ticket = read_ticket(gateway, TENANT, ticket_id)
    assert (ticket["channel"], ticket["title"], ticket["tags"], ticket["group_id"]) == (
        "messenger", "Принтер не печатает", ["support"], "first-line"
    )  # fmt: skip
    replied = post(gateway, update(2, 11, "Уже третий день", reply_to=10))
    assert replied.json()["outcome"] == "commented", replied.text
    deeper = post(gateway, update(3, 12, "И сканер тоже", reply_to=11))  # a reply to the reply: same thread
    assert deeper.json()["ticket_id"] == ticket_id
    loose = post(gateway, update(4, 13, "просто привет"))
    assert loose.json()["outcome"] == "ignored"
    ticket = read_ticket(gateway, TENANT, ticket_id)
    assert [(c["body"], c["channel"]) for c in ticket["comments"]] == [
        ("Уже третий день", "messenger"), ("И сканер тоже", "messenger")
    ]  # fmt: skip
    assert {c["author_id"] for c in ticket["comments"]} == {ticket["requester_id"]}


def test_a_repeated_update_changes_nothing(gateway: httpx.Client) -> None:
    first = post(gateway, update(1, 20, "#bug the app crashes"))
    again = post(gateway, update(1, 20, "#bug the app crashes"))
    assert (first.json()["outcome"], again.json()["outcome"]) == ("opened", "repeated")
    post(gateway, update(2, 21, "on start", reply_to=20))
    post(gateway, update(2, 21, "on start", reply_to=20))
    ticket = read_ticket(gateway, TENANT, first.json()["ticket_id"])
    assert [c["body"] for c in ticket["comments"]] == ["on start"]


def test_only_the_tenants_secret_gets_in_and_malformed_updates_are_named(gateway: httpx.Client) -> None:
    for secret in (None, "wrong", ""):
        refused = post(gateway, update(1, 30, "#support hi"), secret=secret)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    unknown = gateway.post("/v1/channels/telegram/globex", json=update(1, 30, "#support"),
                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})  # fmt: skip
    assert unknown.status_code == 401
    malformed = post(gateway, {"update_id": "x", "message": {"message_id": 1}})
    assert malformed.status_code == 422
    fields = {e["field"] for e in malformed.json()["errors"]}
    assert {"update_id", "message.chat"} <= fields, fields


def chat(base_url: str, who: str | None, **params: str) -> ClientConnection:
    query = "&".join(f"{k}={v}" for k, v in ({"access_token": who} if who else {}).items() | params.items())
    return connect(f"{base_url.replace('http', 'ws')}/v1/chat?{query}", open_timeout=10)


def test_a_chat_opens_a_ticket_each_message_comments_and_the_agents_reply_arrives_live(gateway: httpx.Client) -> None:
    customer = token(TENANT, "carol", roles=("customer",))
    base = str(gateway.base_url)
    with chat(base, customer) as socket:
        hello = json.loads(socket.recv(timeout=10))
        assert (hello["type"], hello["ticket_id"]) == ("conversation", None)
        conversation = hello["conversation_id"]
        socket.send(json.dumps({"type": "message", "id": "m1", "body": "My invoice is wrong"}))
        stored = json.loads(socket.recv(timeout=10))
        assert (stored["type"], stored["outcome"]) == ("stored", "opened")
        ticket_id = stored["ticket_id"]
        for n, body in ((2, "It says 300 EUR"), (3, "It should be 200")):
            socket.send(json.dumps({"type": "message", "id": f"m{n}", "body": body}))
            assert json.loads(socket.recv(timeout=10))["outcome"] == "commented"
        ticket = read_ticket(gateway, TENANT, ticket_id)
        assert ticket["channel"] == "chat"
        assert addresses_of(gateway, TENANT, ticket["requester_id"]) == [("chat", "carol")], "the person carol is"
        assert [c["body"] for c in ticket["comments"]] == ["It says 300 EUR", "It should be 200"]
        answer = gateway.post(f"/v1/tickets/{ticket_id}/comments", headers=headers(TENANT, "ann", ("agent",)),
                              json={"body": "Corrected, sorry!", "public": True, "channel": "chat"})  # fmt: skip
        assert answer.status_code == 201, answer.text
        gateway.post(f"/v1/tickets/{ticket_id}/comments", headers=headers(TENANT, "ann", ("agent",)),
                     json={"body": "internal: refund", "public": False, "channel": "api"})  # fmt: skip
        reply = json.loads(socket.recv(timeout=10))
        assert (reply["type"], reply["body"], reply["author_id"]) == ("reply", "Corrected, sorry!", "ann")
        socket.send(json.dumps({"type": "message", "id": "m2", "body": "It says 300 EUR"}))  # resent: harmless
        assert json.loads(socket.recv(timeout=10))["outcome"] == "repeated"
        socket.send(json.dumps({"type": "message", "body": ""}))
        assert set(json.loads(socket.recv(timeout=10))["fields"]) == {"id", "body"}
    gateway.post(f"/v1/tickets/{ticket_id}/comments", headers=headers(TENANT, "ann", ("agent",)),
                 json={"body": "Anything else?", "public": True, "channel": "chat"})  # fmt: skip
    with chat(base, customer, conversation=conversation, after=reply["comment_id"]) as socket:
        assert json.loads(socket.recv(timeout=10))["ticket_id"] == ticket_id
        missed = json.loads(socket.recv(timeout=10))
        assert (missed["type"], missed["body"]) == ("reply", "Anything else?")  # missed while away, not lost
    assert len(read_ticket(gateway, TENANT, ticket_id)["comments"]) == 5  # 2 of hers, 3 of the agent (1 internal)


def test_a_chat_without_a_customers_token_is_refused(gateway: httpx.Client) -> None:
    base = str(gateway.base_url)
    for who in (None, "not-a-token", token(TENANT, "ann", roles=("agent",))):
        with pytest.raises(InvalidStatus) as refused:
            chat(base, who).close()
        assert refused.value.response.status_code == 403


def test_a_customer_joining_another_customers_chat_conversation_opens_a_ticket_of_their_own(
    gateway: httpx.Client,
) -> None:
    base = str(gateway.base_url)
    with chat(base, token(TENANT, "carol", roles=("customer",))) as socket:
        conversation = json.loads(socket.recv(timeout=10))["conversation_id"]
        socket.send(json.dumps({"type": "message", "id": "m1", "body": "My invoice is wrong"}))
        carols = json.loads(socket.recv(timeout=10))["ticket_id"]
    with chat(base, token(TENANT, "mallory", roles=("customer",)), conversation=conversation) as socket:
        assert json.loads(socket.recv(timeout=10))["ticket_id"] is None, "nothing of carol's is shown"
        socket.send(json.dumps({"type": "message", "id": "m2", "body": "Refund it to my account"}))
        stored = json.loads(socket.recv(timeout=10))
    assert (stored["outcome"], stored["ticket_id"] == carols) == ("opened", False)
    ticket = read_ticket(gateway, TENANT, carols)
    assert (addresses_of(gateway, TENANT, ticket["requester_id"]), ticket["comments"]) == ([("chat", "carol")], [])
    assert addresses_of(gateway, TENANT, read_ticket(gateway, TENANT, stored["ticket_id"])["requester_id"]) == [
        ("chat", "mallory")
    ]
