"""Chat and Telegram answer first, on real PostgreSQL and Kafka: before a conversation opens a ticket the
desk offers the knowledge base's best articles; "this helped" ends it without a ticket, "none of these
helped" or a second message opens the ticket as before, and each end is counted as a deflection
(`self_service.ended` on `knowledge.articles`). With nothing to offer, or no knowledge base, the ticket
opens at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from services.intake.tickets.domain import Ticket
from tests.channel_peers import BOT_TOKEN, BotApi
from tests.client import eventually, headers, read_ticket
from tests.harness import Desk
from tests.integration.knowledge_steps import TENANT, publish, published, write
from tests.tokens import token

SECRET = "acme-bot-webhook-secret"
CHAT = 5550002
IVAN = 4712
Json = dict[str, Any]


@pytest.fixture
def gateway(desk: Desk, bot_api: BotApi) -> Iterator[httpx.Client]:
    bots = {TENANT: {"token": BOT_TOKEN, "webhook_secret": SECRET, "hashtags": ["#support"], "group": "first-line"}}
    desk.env |= {"SERVICEDESK_TELEGRAM_BOTS": json.dumps(bots), "SERVICEDESK_CHAT_POLL_SECONDS": "0.1",
                 "SERVICEDESK_TELEGRAM_API_URL": f"http://127.0.0.1:{bot_api.port}"}  # fmt: skip
    with desk.gateway("knowledge") as client:
        yield client


@pytest.fixture
def articles(gateway: httpx.Client) -> dict[str, str]:
    """Two public articles, Russian and English, once the knowledge base suggests them."""
    russian = write(gateway, language="ru", title="Принтер не печатает", body="Перезапустите принтер.",
                    visibility="public")  # fmt: skip
    english = write(gateway, title="Printer does not print", body="Restart the printer.", visibility="public")
    for article in (russian, english):
        publish(gateway, article["id"])

    def suggested() -> set[str]:
        reply = gateway.post(f"/v1/kb/public/{TENANT}/suggestions", json={"text": "принтер printer"})
        return {hit["id"] for hit in reply.json()["articles"]} if reply.status_code == 200 else set()

    eventually(suggested, lambda found: found == {russian["id"], english["id"]}, timeout=30)
    return {"ru": russian["id"], "en": english["id"]}


def message(update_id: int, message_id: int, text: str) -> Json:
    sent = {"message_id": message_id, "date": 1764590000, "text": text, "chat": {"id": CHAT, "type": "private"},
            "from": {"id": IVAN, "is_bot": False, "first_name": "Ivan", "language_code": "ru"}}  # fmt: skip
    return {"update_id": update_id, "message": sent}


def press(update_id: int, data: str, offer_id: int) -> Json:
    offer = {"message_id": offer_id, "date": 1764590000, "chat": {"id": CHAT, "type": "private"}, "text": "…"}
    query = {"id": f"q{update_id}", "from": {"id": IVAN, "is_bot": False, "first_name": "Ivan"}, "message": offer,
             "data": data, "chat_instance": "1"}  # fmt: skip
    return {"update_id": update_id, "callback_query": query}


def telegram(client: httpx.Client, update: Json) -> Json:
    reply = client.post(
        f"/v1/channels/telegram/{TENANT}", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert reply.status_code == 200, reply.text
    answer: Json = reply.json()
    return answer


def deflections(desk: Desk, count: int) -> list[Json]:
    """The `self_service.ended` events the knowledge base published, once there are `count`."""
    found = eventually(lambda: [e for e in published(desk, 1500) if e.type == "self_service.ended"],
                       lambda ended: len(ended) >= count, timeout=60)  # fmt: skip
    return [e.data for e in found]


def ticket_of(gateway: httpx.Client, message_id: int) -> httpx.Response:
    ticket_id = Ticket.id_for_request(TENANT, f"telegram:{CHAT}:{message_id}")
    return gateway.get(f"/v1/tickets/{ticket_id}", headers=headers(TENANT))


def test_a_telegram_question_an_article_answers_ends_without_a_ticket(
    desk: Desk, gateway: httpx.Client, articles: dict[str, str], bot_api: BotApi
) -> None:
    offered = telegram(gateway, message(1, 10, "#support Принтеры не печатают"))

    assert offered["outcome"] == "offered"
    assert articles["ru"] in [a["id"] for a in offered["articles"]]
    [offer] = bot_api.sent
    assert offer["reply_parameters"]["message_id"] == 10
    assert f"/t/{TENANT}/articles/{articles['ru']}" in offer["text"]
    buttons = [row[0]["callback_data"] for row in offer["reply_markup"]["inline_keyboard"]]
    assert f"kb:ok:{articles['ru']}" in buttons
    assert buttons[-1] == "kb:none"
    solved = telegram(gateway, press(2, f"kb:ok:{articles['ru']}", 1001))
    assert (solved["outcome"], solved["article_id"]) == ("solved", articles["ru"])
    assert [a["callback_query_id"] for a in bot_api.answered] == ["q2"]
    assert ticket_of(gateway, 10).status_code == 404, "no ticket"
    again = telegram(gateway, press(3, "kb:none", 1001))
    assert again["outcome"] == "ignored", "the conversation ended"
    assert deflections(desk, 1) == [{"channel": "telegram", "article_id": articles["ru"], "outcome": "solved"}]
    assert not bot_api.wrong


def test_none_of_these_helped_opens_the_ticket_from_the_first_message(
    desk: Desk, gateway: httpx.Client, articles: dict[str, str], bot_api: BotApi
) -> None:
    assert telegram(gateway, message(1, 20, "#support Printer does not print"))["outcome"] == "offered"

    opened = telegram(gateway, press(2, "kb:none", 1001))

    assert opened["outcome"] == "opened"
    assert opened["ticket_id"] == str(Ticket.id_for_request(TENANT, f"telegram:{CHAT}:20"))
    ticket = read_ticket(gateway, TENANT, opened["ticket_id"])
    assert (ticket["title"], ticket["channel"], ticket["tags"]) == ("Printer does not print", "messenger", ["support"])
    assert deflections(desk, 1) == [{"channel": "telegram", "article_id": None, "outcome": "ticket_opened"}]


def test_a_second_telegram_message_opens_the_ticket_with_both(
    desk: Desk, gateway: httpx.Client, articles: dict[str, str]
) -> None:
    assert telegram(gateway, message(1, 30, "#support Принтер не печатает"))["outcome"] == "offered"

    second = telegram(gateway, message(2, 31, "Уже третий день"))

    assert second["outcome"] == "commented"
    assert second["ticket_id"] == str(Ticket.id_for_request(TENANT, f"telegram:{CHAT}:30"))
    ticket = read_ticket(gateway, TENANT, second["ticket_id"])
    assert (ticket["title"], [c["body"] for c in ticket["comments"]]) == ("Принтер не печатает", ["Уже третий день"])
    third = telegram(gateway, message(3, 32, "#support И сканер тоже"))
    assert third["outcome"] != "commented", "a new question is a new conversation"
    assert deflections(desk, 1)[0]["outcome"] == "ticket_opened"


def test_with_nothing_to_offer_or_no_knowledge_base_the_ticket_opens_at_once(
    desk: Desk, gateway: httpx.Client, articles: dict[str, str], bot_api: BotApi
) -> None:
    assert telegram(gateway, message(1, 40, "#support The coffee machine leaks"))["outcome"] == "opened"
    next(service for service in desk.services if service.name == "knowledge").stop()
    assert telegram(gateway, message(2, 41, "#support Printer does not print"))["outcome"] == "opened"
    assert not any("reply_markup" in sent for sent in bot_api.sent), "nothing offered (the tickets acknowledged)"


def chat(gateway: httpx.Client, who: str, conversation: str) -> ClientConnection:
    customer = token(TENANT, who, roles=("customer",))
    base = str(gateway.base_url).replace("http", "ws")
    socket = connect(f"{base}/v1/chat?access_token={customer}&conversation={conversation}", open_timeout=10)
    assert json.loads(socket.recv(timeout=10))["type"] == "conversation"
    return socket


def said(socket: Connection, frame: Json) -> Json:
    socket.send(json.dumps(frame))
    answer: Json = json.loads(socket.recv(timeout=15))
    return answer


def test_a_chat_question_an_article_answers_ends_without_a_ticket(
    desk: Desk, gateway: httpx.Client, articles: dict[str, str]
) -> None:
    with chat(gateway, "carol", "c1") as socket:
        offered = said(socket, {"type": "message", "id": "m1", "body": "My printer does not print"})
        assert (offered["type"], offered["id"]) == ("articles", "m1")
        assert articles["en"] in [a["id"] for a in offered["articles"]]
        refused = said(socket, {"type": "helped", "article_id": "8c6f2f4e-0000-4000-8000-000000000000"})
        assert refused["fields"] == ["article_id"], "only an article offered"
        solved = said(socket, {"type": "helped", "article_id": articles["en"]})
        assert solved == {"type": "solved", "article_id": articles["en"]}
    ticket_id = Ticket.id_for_request(TENANT, "chat:carol:c1:m1")
    assert gateway.get(f"/v1/tickets/{ticket_id}", headers=headers(TENANT)).status_code == 404, "no ticket"
    assert deflections(desk, 1) == [{"channel": "chat", "article_id": articles["en"], "outcome": "solved"}]


def test_a_second_chat_message_or_none_helped_opens_the_ticket(
    desk: Desk, gateway: httpx.Client, articles: dict[str, str]
) -> None:
    with chat(gateway, "carol", "c2") as socket:
        assert said(socket, {"type": "message", "id": "m1", "body": "Printer does not print"})["type"] == "articles"
        socket.send(json.dumps({"type": "message", "id": "m2", "body": "Since Monday"}))
        opened, commented = json.loads(socket.recv(timeout=15)), json.loads(socket.recv(timeout=15))
        assert (opened["id"], opened["outcome"], commented["outcome"]) == ("m1", "opened", "commented")
    ticket = read_ticket(gateway, TENANT, opened["ticket_id"])
    assert (ticket["title"], [c["body"] for c in ticket["comments"]]) == ("Printer does not print", ["Since Monday"])
    with chat(gateway, "dora", "c3") as socket:
        assert said(socket, {"type": "message", "id": "m1", "body": "Принтер не печатает"})["type"] == "articles"
        stored = said(socket, {"type": "not_helped"})
        assert (stored["type"], stored["id"], stored["outcome"]) == ("stored", "m1", "opened")
    ended = deflections(desk, 2)
    assert [(d["channel"], d["outcome"]) for d in ended] == [("chat", "ticket_opened")] * 2
