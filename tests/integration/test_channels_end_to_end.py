"""Both halves of the channels at once, on real PostgreSQL and Kafka: a customer writes in by
e-mail or Telegram, the desk answers on the same channel, in the same thread, and the
customer's answer to the desk's message lands on the same ticket."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from services.intake.tickets.domain import Ticket
from tests import mail
from tests.channel_peers import BOT_TOKEN, BotApi, Sink, answering_through
from tests.client import eventually, headers, read_ticket
from tests.harness import Desk

TENANT = "acme"
SECRET = "acme-bot-webhook-secret"
CHAT = 5550002


@pytest.fixture
def channel_desk(desk: Desk, sink: Sink, bot_api: BotApi) -> tuple[str, int]:
    smtp_port = mail.with_mailboxes(desk)
    bots = {TENANT: {"token": BOT_TOKEN, "webhook_secret": SECRET, "hashtags": ["#support"]}}
    answering_through(desk, sink, bot_api, bots)
    return desk.service("intake").start().url, smtp_port


def gateway(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=15.0, headers=headers(TENANT))


def test_a_mail_gets_its_acknowledgement_in_thread_and_the_answer_to_it_lands_on_the_ticket(
    channel_desk: tuple[str, int], sink: Sink
) -> None:
    url, smtp_port = channel_desk
    first = mail.a_message(subject="VPN drops every hour", body="Since Monday.")
    assert mail.send(smtp_port, first)[0] == 250
    ticket_id = str(Ticket.id_for_request(TENANT, f"email:{first['Message-ID']}"))
    [ack] = eventually(lambda: sink.of(ticket_id), lambda mails: len(mails) == 1, timeout=30)
    # (a long Message-ID is folded onto a line of its own: the fold is not part of it)
    assert (ack["To"], ack["In-Reply-To"].strip()) == ("jane@customer.example", first["Message-ID"])
    assert ack["Subject"].startswith("[SD-")

    thread = f"{first['Message-ID']} {ack['Message-ID']}"
    answer = mail.a_message(subject=f"Re: {ack['Subject']}", body="It is the office Wi-Fi.",
                            In_Reply_To=ack["Message-ID"], References=thread)  # fmt: skip
    assert mail.send(smtp_port, answer)[0] == 250
    with gateway(url) as client:
        ticket = read_ticket(client, TENANT, ticket_id)
        assert [c["body"] for c in ticket["comments"]] == ["It is the office Wi-Fi."]
        reply = client.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "Try the wired port.", "public": True})
        assert reply.status_code == 201, reply.text
    mails = eventually(lambda: sink.of(ticket_id), lambda found: len(found) == 2, timeout=30)
    agent = mails[1]
    assert "Try the wired port." in agent.get_content()
    assert agent["In-Reply-To"].strip() == answer["Message-ID"], "the desk answers the customer's newest message"
    assert ack["Message-ID"] in agent["References"].split()
    time.sleep(1.0)
    assert len(sink.of(ticket_id)) == 2, "each once"


def update(update_id: int, message_id: int, text: str, reply_to: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id, "date": 1764590000, "text": text, "chat": {"id": CHAT, "type": "private"},
        "from": {"id": 4712, "is_bot": False, "first_name": "Olga", "language_code": "ru"},
    }  # fmt: skip
    if reply_to is not None:
        message["reply_to_message"] = {"message_id": reply_to, "date": 1764590000, "chat": {"id": CHAT}}
    return {"update_id": update_id, "message": message}


def test_a_telegram_customer_answering_the_bots_message_stays_on_the_ticket(
    channel_desk: tuple[str, int], bot_api: BotApi
) -> None:
    url, _ = channel_desk
    webhook = f"/v1/channels/telegram/{TENANT}"
    secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    with httpx.Client(base_url=url, timeout=15.0) as client:
        opened = client.post(webhook, json=update(1, 30, "#support Принтер не печатает"), headers=secret)
        assert opened.json()["outcome"] == "opened", opened.text
        ticket_id = opened.json()["ticket_id"]
        [ack] = eventually(lambda: list(bot_api.sent), lambda sent: len(sent) == 1, timeout=30)
        assert (ack["chat_id"], ack["reply_parameters"]["message_id"]) == (str(CHAT), 30)
        bots_message = 1001  # the stand-in numbers what it sends from 1001

        def answer() -> dict[str, Any]:  # once the mailer has bound the bot's message to the ticket
            said: dict[str, Any] = client.post(webhook, json=update(2, 31, "Уже лучше", bots_message),
                                               headers=secret).json()  # fmt: skip
            return said

        answered = eventually(answer, lambda said: said["outcome"] == "commented", timeout=10)
        assert answered["ticket_id"] == ticket_id
    assert not bot_api.wrong
    with gateway(url) as client:
        assert [c["body"] for c in read_ticket(client, TENANT, ticket_id)["comments"]] == ["Уже лучше"]
