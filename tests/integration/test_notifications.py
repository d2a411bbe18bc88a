"""Notifications out, on real PostgreSQL and Kafka: mail caught by a local SMTP sink (aiosmtpd),
Telegram replies by a local stand-in for the Bot API that checks every request.

Reply routes are recorded the way the inbound channels will record them: the ticket is opened
through the gateway, then the test binds the customer's thread and route with `Conversations`
on the desk's own store (shortly after `TicketOpened`, as an inbound mail would be)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.people.finder import People
from tests.channel_peers import BOT_TOKEN, DOMAIN, BotApi, Sink, answering_through
from tests.client import eventually, headers, open_tickets, ticket_form
from tests.desk_invariants import mails_by_ticket
from tests.harness import Desk
from tests.privacy import desk_intake

TENANT = "acme"
MAILBOX = "support@acme.test"


class Channels:
    """What the inbound channels will do, done by the test: meet people, bind threads and routes."""

    def __init__(self, desk: Desk) -> None:
        self.intake = desk_intake(desk.settings)
        personal = self.intake.personal
        self.people = People(self.intake, personal)
        self.conversations = Conversations(self.intake, personal)

    def route(self, ticket_id: str, requester: str, route: ReplyRoute, key: str) -> None:
        self.conversations.remember(TENANT, UUID(ticket_id), requester, route.channel, [key], route)


def with_channels(desk: Desk, sink: Sink, bot_api: BotApi) -> Desk:
    answering_through(desk, sink, bot_api, {TENANT: {"token": BOT_TOKEN, "webhook_secret": "s"}})
    desk.env |= {
        "SERVICEDESK_MAIL_DOMAIN": DOMAIN, "SERVICEDESK_MAILBOXES": json.dumps({MAILBOX: {"tenant": TENANT}}),
        "SERVICEDESK_NOTIFICATION_CLAIM_SECONDS": "5",
    }  # fmt: skip
    return desk


@pytest.fixture
def mail_desk(desk: Desk, sink: Sink, bot_api: BotApi) -> Desk:
    return with_channels(desk, sink, bot_api)


@pytest.fixture
def gateway(mail_desk: Desk) -> Iterator[httpx.Client]:
    intake = mail_desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=10.0, headers=headers(TENANT)) as client:
        yield client


def open_ticket(client: httpx.Client, requester: str, title: str = "VPN drops") -> dict[str, Any]:
    reply = client.post("/v1/tickets", json=ticket_form(requester_id=requester, title=title))
    assert reply.status_code == 201, reply.text
    ticket: dict[str, Any] = reply.json()
    return ticket


def delivery_log(client: httpx.Client, ticket_id: str, sent: int) -> list[dict[str, Any]]:
    """The ticket's messages, once `sent` of them are recorded sent (the record follows the server's answer)."""
    messages: list[dict[str, Any]] = eventually(
        lambda: client.get(f"/v1/tickets/{ticket_id}/notifications").json()["messages"],
        lambda log: sum(m["status"] == "sent" for m in log) >= sent, timeout=10,
    )  # fmt: skip
    return messages


def post(client: httpx.Client, path: str, body: dict[str, Any]) -> None:
    reply = client.post(path, json=body)
    assert reply.is_success, f"{path}: {reply.status_code} {reply.text}"


def test_a_russian_requester_gets_acknowledgement_reply_resolution_and_survey_once_each_in_one_thread(
    mail_desk: Desk, gateway: httpx.Client, sink: Sink
) -> None:
    channels = Channels(mail_desk)
    ivan = channels.people.requester_for(TENANT, "email", "ivan@example.ru", "Иван", "ru")
    ticket = open_ticket(gateway, ivan, "Не работает VPN")
    ticket_id, number = ticket["id"], ticket["number"]
    # recorded just after the ticket opened, as the inbound mail channel does: the acknowledgement waits for it
    channels.route(
        ticket_id, ivan, ReplyRoute("email", "ivan@example.ru", "<cust-1@example.ru>"), "<cust-1@example.ru>"
    )
    eventually(lambda: sink.of(ticket_id), lambda mails: len(mails) == 1, timeout=30)
    post(gateway, f"/v1/tickets/{ticket_id}/comments", {"body": "Перезагрузите роутер", "public": True})
    post(gateway, f"/v1/tickets/{ticket_id}/comments", {"body": "internal: router firmware", "public": False})
    post(gateway, f"/v1/tickets/{ticket_id}/resolve", {"resolution": "роутер перезагружен", "reason": "fixed"})

    sent = eventually(lambda: sink.of(ticket_id), lambda mails: len(mails) >= 4, timeout=30)
    time.sleep(1.0)  # nothing more comes
    sent = sink.of(ticket_id)
    subjects = [m["Subject"] for m in sent]
    assert subjects == [
        f"[{number}] Ваше обращение принято: Не работает VPN", f"[{number}] Re: Не работает VPN",
        f"[{number}] Решено: Не работает VPN", f"[{number}] Оцените нашу работу: Не работает VPN",
    ], "each once, in Russian, in order, tagged with the number"  # fmt: skip
    ack, reply, _resolved, survey = sent
    assert "Перезагрузите роутер" in reply.get_content()
    assert "internal" not in reply.get_content()
    assert f"/v1/tickets/{ticket_id}/rating" in survey.get_content()
    assert "Здравствуйте, Иван!" in ack.get_content()
    ids = [m["Message-ID"] for m in sent]
    assert len(set(ids)) == 4
    for mail in sent:
        assert (mail["From"], mail["To"], mail["In-Reply-To"]) == (MAILBOX, "ivan@example.ru", "<cust-1@example.ru>")
        assert mail["Auto-Submitted"] in ("auto-replied", "auto-generated")
    assert ack["Auto-Submitted"] == "auto-replied"
    assert survey["References"].split() == ["<cust-1@example.ru>", *ids[:3]], "the thread so far"
    log = delivery_log(gateway, ticket_id, sent=4)
    assert [(m["kind"], m["channel"], m["status"], m["attempts"]) for m in log] == [
        ("acknowledgement", "email", "sent", 1), ("reply", "email", "sent", 1), ("resolved", "email", "sent", 1),
        ("survey", "email", "sent", 1),
    ]  # fmt: skip
    assert all(m["last_reply"].startswith("250") and m["sent_at"] for m in log)


def test_a_relay_answering_451_is_retried_with_backoff_and_the_mail_arrives_once(
    mail_desk: Desk, gateway: httpx.Client, sink: Sink
) -> None:
    sink.fail_first = 3
    channels = Channels(mail_desk)
    jane = channels.people.requester_for(TENANT, "email", "jane@example.com", "Jane", "en")
    ticket_id = open_ticket(gateway, jane)["id"]  # no route remembered: the requester's own address is used
    started = time.monotonic()
    [ack] = eventually(lambda: sink.of(ticket_id), lambda mails: len(mails) == 1, timeout=30)
    waited = time.monotonic() - started
    assert ack["Subject"].endswith("We have your request: VPN drops")
    assert ack["To"] == "jane@example.com"
    assert waited >= 0.2 + 0.4 + 0.8, "backoff doubles from 0.2 s"
    time.sleep(1.0)
    assert len(sink.of(ticket_id)) == 1
    [record] = delivery_log(gateway, ticket_id, sent=1)
    assert (record["status"], record["attempts"]) == ("sent", 4)
    assert record["last_error"].startswith("SMTP 451")
    assert record["last_reply"].startswith("250")


def test_an_agents_reply_to_a_telegram_customer_goes_back_through_the_bot_api_as_a_reply(
    mail_desk: Desk, gateway: httpx.Client, bot_api: BotApi, sink: Sink
) -> None:
    channels = Channels(mail_desk)
    customer = channels.people.requester_for(TENANT, "telegram", "555001", "Olga", "ru")
    ticket_id = open_ticket(gateway, customer, "#support принтер")["id"]
    channels.route(ticket_id, customer, ReplyRoute("telegram", "555001", "77"), "555001:77")
    post(gateway, f"/v1/tickets/{ticket_id}/comments", {"body": "Замените картридж", "public": True})
    sent = eventually(lambda: list(bot_api.sent), lambda s: len(s) >= 2, timeout=30)
    assert not bot_api.wrong
    assert [(s["chat_id"], s["reply_parameters"]["message_id"]) for s in sent] == [("555001", 77), ("555001", 77)]
    assert "Замените картридж" in sent[1]["text"]
    assert sent[1]["text"].startswith("[SD-")
    log = delivery_log(gateway, ticket_id, sent=2)
    assert [(m["kind"], m["channel"]) for m in log] == [("acknowledgement", "telegram"), ("reply", "telegram")]
    assert log[1]["last_reply"] == "message_id 1002"
    assert sink.of(ticket_id) == [], "a Telegram customer is not mailed"


def test_exactly_one_acknowledgement_per_ticket_while_the_mailer_and_the_gateway_are_killed_again_and_again(
    mail_desk: Desk, sink: Sink
) -> None:
    api = mail_desk.service("intake", "api").start()
    mailers = [mail_desk.service("intake", "mailer").start(), mail_desk.service("intake", "mailer")]
    mailers[1].start()
    channels = Channels(mail_desk)
    requesters = [channels.people.requester_for(TENANT, "email", f"c{i}@example.com") for i in range(100)]
    kills = {"mailer": 0, "api": 0}

    def chaos() -> None:
        """Three rounds: the mailer killed mid-run and restarted, then the gateway."""
        for _ in range(3):
            for victim, name in ((mailers[0], "mailer"), (api, "api")):
                time.sleep(1.5)
                victim.kill()
                kills[name] += 1
                victim.start()

    killer = threading.Thread(target=chaos)
    killer.start()
    try:
        tickets = asyncio.run(open_tickets(api.url, TENANT, 100, concurrency=4, patience=240,
                                           form=lambda i: ticket_form(requester_id=requesters[i])))  # fmt: skip
    finally:
        killer.join()

    def acknowledgements() -> dict[str, int]:
        return {ticket_id: len(mails) for ticket_id, mails in mails_by_ticket(sink, tickets).items()}

    eventually(acknowledgements, lambda counts: all(counts.values()), timeout=120)
    time.sleep(7.0)  # past the claim timeout: an attempt left unconfirmed by a kill would be sent again by now
    counts = acknowledgements()
    with httpx.Client(base_url=api.url, timeout=10.0, headers=headers(TENANT)) as client:
        records = [m for t in tickets for m in client.get(f"/v1/tickets/{t}/notifications").json()["messages"]]
    resent = [r for r in records if r["attempts"] > 1]
    print(f"{len(tickets)} tickets, {kills} kills, {len(sink.messages)} mails, {len(resent)} sent more than once")
    assert kills["mailer"] >= 3
    assert kills["api"] >= 2
    assert len(set(tickets)) == 100
    assert sorted(set(counts.values())) == [1], f"acknowledgements per ticket: {counts}"
    assert len(records) == 100
    assert {r["status"] for r in records} == {"sent"}


def test_a_customer_who_never_answers_hears_each_sla_reminder_once_then_the_resolution(
    mail_desk: Desk, sink: Sink
) -> None:
    mail_desk.env["SERVICEDESK_SLA_URL"] = mail_desk.service("sla").start().url
    intake = mail_desk.service("intake").start()
    channels = Channels(mail_desk)
    jane = channels.people.requester_for(TENANT, "email", "jane@example.com", "Jane", "en")
    with httpx.Client(base_url=intake.url, timeout=10.0, headers=headers(TENANT)) as gateway:
        policy = {"targets": {"resolution": "P1D"}, "reminders": {"every": "PT1S", "count": 2}}
        assert gateway.put("/v1/sla/policies/standard", json=policy).status_code in (200, 201)
        ticket_id = open_ticket(gateway, jane)["id"]
        channels.route(ticket_id, jane, ReplyRoute("email", "jane@example.com", "<j-1@x.test>"), "<j-1@x.test>")
        eventually(lambda: gateway.get(f"/v1/tickets/{ticket_id}").json()["sla"], lambda s: "resolution" in s)
        until = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        pending = {"waiting_for": "customer", "until": until, "reason": "logs?"}
        post(gateway, f"/v1/tickets/{ticket_id}/pending", pending)
        eventually(lambda: sink.of(ticket_id), lambda mails: len(mails) >= 6, timeout=60)
        time.sleep(1.0)
        subjects = [m["Subject"].split("] ", 1)[1] for m in sink.of(ticket_id)]
        assert subjects == [
            "We have your request: VPN drops", "We need your answer: VPN drops",
            "Reminder: we are still waiting for your answer: VPN drops",
            "Reminder: we are still waiting for your answer: VPN drops", "Resolved: VPN drops",
            "How did we do? VPN drops",
        ]  # fmt: skip
        reminders = [m.get_content() for m in sink.of(ticket_id)][2:4]
        assert "(reminder 1" in reminders[0]
        assert "(reminder 2" in reminders[1]


def test_on_the_embedded_default_sqlite_the_requester_gets_the_acknowledgement_once(
    sqlite_desk: Desk, sink: Sink, bot_api: BotApi
) -> None:
    desk = with_channels(sqlite_desk, sink, bot_api)
    intake = desk.service("intake").start()
    channels = Channels(desk)
    jane = channels.people.requester_for(TENANT, "email", "jane@example.com", "Jane", "ru")
    with httpx.Client(base_url=intake.url, timeout=10.0, headers=headers(TENANT)) as gateway:
        ticket_id = open_ticket(gateway, jane)["id"]
        [ack] = eventually(lambda: sink.of(ticket_id), lambda mails: len(mails) == 1, timeout=30)
        assert "Ваше обращение принято" in ack["Subject"]
        assert [m["status"] for m in delivery_log(gateway, ticket_id, sent=1)] == ["sent"]
