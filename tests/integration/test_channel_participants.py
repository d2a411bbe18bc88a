"""Only a ticket's participants write into it from the channels, on real PostgreSQL and Kafka:
a stranger who copies a ticket's number, answers the desk's mail or replies in a Telegram
group gets a ticket of their own, and the desk keeps answering the requester where it did."""

from __future__ import annotations

import json
import time
from email.message import EmailMessage
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
GROUP_CHAT = -1005550003
MALLORY = "Mallory <mallory@elsewhere.example>"
STAFF = "Ann Agent <ann@acme.example>"
AUTHSERV_ID = "mx.acme.example"  # the desk's own mail server, which authenticates what it receives
VOUCHED = f"{AUTHSERV_ID}; dkim=pass header.d=acme.example header.s=s1; dmarc=pass header.from=acme.example"


@pytest.fixture
def channel_desk(desk: Desk, sink: Sink, bot_api: BotApi) -> tuple[httpx.Client, int]:
    smtp_port = mail.with_mailboxes(desk)
    bots = {TENANT: {"token": BOT_TOKEN, "webhook_secret": SECRET, "hashtags": ["#support"]}}
    answering_through(desk, sink, bot_api, bots)
    desk.env |= {
        "SERVICEDESK_STAFF_ADDRESSES": json.dumps({TENANT: ["ann@acme.example"]}),
        "SERVICEDESK_MAIL_AUTHSERV_ID": AUTHSERV_ID,
    }
    url = desk.service("intake").start().url
    return httpx.Client(base_url=url, timeout=15.0, headers=headers(TENANT)), smtp_port


def ticket_of(message: EmailMessage) -> str:
    return str(Ticket.id_for_request(TENANT, f"email:{message['Message-ID']}"))


def opened_by_jane(
    client: httpx.Client, smtp_port: int, sink: Sink
) -> tuple[EmailMessage, dict[str, Any], EmailMessage]:
    """Jane's mail, the ticket it opened and the desk's acknowledgement to her."""
    first = mail.a_message(subject="VPN drops every hour", body="Since Monday.")
    assert mail.send(smtp_port, first)[0] == 250
    ticket = read_ticket(client, TENANT, ticket_of(first))
    [ack] = eventually(lambda: sink.of(ticket["id"]), lambda mails: len(mails) == 1, timeout=30)
    return first, ticket, ack


def text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""


def sent_by(smtp_port: int, message: EmailMessage) -> EmailMessage:
    sender = message["From"].addresses[0].addr_spec
    code, text = mail.send(smtp_port, message, envelope_sender=sender)
    assert code == 250, text
    return message


def test_an_outsider_quoting_a_ticket_number_opens_a_ticket_of_their_own(
    channel_desk: tuple[httpx.Client, int], sink: Sink
) -> None:
    client, smtp_port = channel_desk
    _, ticket, _ = opened_by_jane(client, smtp_port, sink)
    quoting = sent_by(smtp_port, mail.a_message(f"Re: [{ticket['number']}] VPN", "Close this, it works now.",
                                                sender=MALLORY))  # fmt: skip
    theirs = read_ticket(client, TENANT, ticket_of(quoting))
    assert theirs["requester_id"] != ticket["requester_id"]
    assert (theirs["description"], theirs["links"]) == ("Close this, it works now.", {ticket["id"]: "related"})
    janes = read_ticket(client, TENANT, ticket["id"])
    assert (janes["comments"], janes["links"]) == ([], {theirs["id"]: "related"})


def test_an_outsider_answering_the_desks_mail_opens_a_ticket_of_their_own(
    channel_desk: tuple[httpx.Client, int], sink: Sink
) -> None:
    """Threading by In-Reply-To/References obeys the same rule as the number in the subject."""
    client, smtp_port = channel_desk
    first, ticket, ack = opened_by_jane(client, smtp_port, sink)
    forwarded = sent_by(smtp_port, mail.a_message("Re: your ticket", "I am Jane's new address, write here.",
                                                  sender=MALLORY, In_Reply_To=ack["Message-ID"],
                                                  References=f"{first['Message-ID']} {ack['Message-ID']}"))  # fmt: skip
    assert read_ticket(client, TENANT, ticket["id"])["comments"] == []
    assert read_ticket(client, TENANT, ticket_of(forwarded))["links"] == {ticket["id"]: "related"}


def test_an_outsider_cannot_reopen_or_redirect_a_resolved_ticket(
    channel_desk: tuple[httpx.Client, int], sink: Sink
) -> None:
    client, smtp_port = channel_desk
    first, ticket, ack = opened_by_jane(client, smtp_port, sink)
    resolved = client.post(f"/v1/tickets/{ticket['id']}/resolve", json={"resolution": "Reset the VPN profile.",
                                                                        "reason": "fixed"})  # fmt: skip
    assert resolved.status_code == 200, resolved.text
    sent_by(smtp_port, mail.a_message(f"Re: [{ticket['number']}] VPN", "Still broken!", sender=MALLORY,
                                      In_Reply_To=ack["Message-ID"]))  # fmt: skip
    janes = read_ticket(client, TENANT, ticket["id"])
    assert (janes["status"], janes["comments"]) == ("resolved", [])
    answer = client.post(f"/v1/tickets/{ticket['id']}/comments", json={"body": "Is it fine now?", "public": True})
    assert answer.status_code == 201, answer.text
    mails = eventually(lambda: sink.of(ticket["id"]), lambda found: any("Is it fine now?" in text(m) for m in found),
                       timeout=30)  # fmt: skip
    agent = next(m for m in mails if "Is it fine now?" in text(m))
    assert agent["In-Reply-To"].strip() == first["Message-ID"], "the desk answers Jane's message, not Mallory's"
    time.sleep(1.0)
    assert {m["To"] for m in sink.of(ticket["id"])} == {"jane@customer.example"}, "nothing of it to the outsider"


def test_the_requester_answering_from_their_address_still_lands_on_the_ticket(
    channel_desk: tuple[httpx.Client, int], sink: Sink
) -> None:
    client, smtp_port = channel_desk
    _, ticket, _ = opened_by_jane(client, smtp_port, sink)
    resolved = client.post(f"/v1/tickets/{ticket['id']}/resolve", json={"resolution": "Reset it.", "reason": "fixed"})
    assert resolved.status_code == 200, resolved.text
    again = mail.a_message(f"Re: [{ticket['number']}] VPN", "It dropped again.", sender="Jane <JANE@Customer.example>")
    sent_by(smtp_port, again)
    janes = read_ticket(client, TENANT, ticket["id"])
    assert [(c["body"], c["author_id"]) for c in janes["comments"]] == [("It dropped again.", ticket["requester_id"])]
    assert janes["status"] == "open", "the requester writing again reopens it"


def test_staff_writing_in_by_mail_lands_on_the_ticket_and_the_requester_is_still_answered(
    channel_desk: tuple[httpx.Client, int], sink: Sink
) -> None:
    """Their mail server (the desk's) authenticated their From: DMARC passed for acme.example."""
    client, smtp_port = channel_desk
    first, ticket, _ = opened_by_jane(client, smtp_port, sink)
    sent_by(smtp_port, mail.a_message(f"Re: [{ticket['number']}] VPN", "Which VPN client do you use?", sender=STAFF,
                                      Authentication_Results=VOUCHED))  # fmt: skip
    [comment] = read_ticket(client, TENANT, ticket["id"])["comments"]
    assert (comment["body"], comment["public"]) == ("Which VPN client do you use?", True)
    assert (comment["author_id"] != ticket["requester_id"], comment["author_kind"]) == (True, "staff")
    mails = eventually(lambda: sink.of(ticket["id"]), lambda found: len(found) == 2, timeout=30)
    assert (mails[1]["To"], mails[1]["In-Reply-To"].strip()) == ("jane@customer.example", first["Message-ID"])


def forged_staff_mail_opens_a_ticket_of_its_own(
    client: httpx.Client, smtp_port: int, sink: Sink, **headers: str
) -> None:
    """Ann's address on mail that her server did not vouch for: not staff, not on Jane's ticket, not mailed to Jane."""
    _, ticket, _ = opened_by_jane(client, smtp_port, sink)
    forged = sent_by(smtp_port, mail.a_message(f"Re: [{ticket['number']}] VPN", "Please confirm your password at "
                                               "https://acme-sso.example.net", sender=STAFF, **headers))  # fmt: skip
    theirs = read_ticket(client, TENANT, ticket_of(forged))
    assert (theirs["links"], theirs["requester_id"] != ticket["requester_id"]) == ({ticket["id"]: "related"}, True)
    assert theirs["comments"] == []
    janes = read_ticket(client, TENANT, ticket["id"])
    assert (janes["comments"], janes["links"]) == ([], {theirs["id"]: "related"})
    time.sleep(1.0)
    assert [m["To"] for m in sink.of(ticket["id"])] == ["jane@customer.example"], "only the acknowledgement"
    assert not any("acme-sso" in text(m) for m in sink.of(ticket["id"]))


def test_a_forged_staff_address_without_authentication_opens_a_ticket_of_its_own(
    channel_desk: tuple[httpx.Client, int], sink: Sink
) -> None:
    client, smtp_port = channel_desk
    forged_staff_mail_opens_a_ticket_of_its_own(client, smtp_port, sink)


def test_an_authentication_result_from_another_server_is_not_believed(
    channel_desk: tuple[httpx.Client, int], sink: Sink
) -> None:
    """The forger writes their own Authentication-Results: it names their server, not the desk's."""
    client, smtp_port = channel_desk
    theirs = VOUCHED.replace(AUTHSERV_ID, "mx.acme.example.evil.example")
    forged_staff_mail_opens_a_ticket_of_its_own(client, smtp_port, sink, Authentication_Results=theirs)


def update(update_id: int, message_id: int, user: int, text: str, reply_to: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id, "date": 1764590000, "text": text, "chat": {"id": GROUP_CHAT, "type": "group"},
        "from": {"id": user, "is_bot": False, "first_name": f"User {user}", "language_code": "en"},
    }  # fmt: skip
    if reply_to is not None:
        message["reply_to_message"] = {"message_id": reply_to, "date": 1764590000, "chat": {"id": GROUP_CHAT}}
    return {"update_id": update_id, "message": message}


def test_a_stranger_replying_in_a_telegram_groups_ticket_thread_opens_a_ticket_of_their_own(
    channel_desk: tuple[httpx.Client, int], bot_api: BotApi
) -> None:
    client, _ = channel_desk
    webhook, secret = f"/v1/channels/telegram/{TENANT}", {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    olga, boris = 4712, 4713
    opened = client.post(webhook, json=update(1, 40, olga, "#support The printer jams"), headers=secret).json()
    ticket_id = opened["ticket_id"]
    eventually(lambda: list(bot_api.sent), lambda sent: len(sent) == 1, timeout=30)  # the ack, bot's message 1001

    def stranger() -> dict[str, Any]:  # once the mailer has bound the bot's message to the ticket
        said: dict[str, Any] = client.post(webhook, json=update(2, 41, boris, "Ignore her, all fine", 1001),
                                           headers=secret).json()  # fmt: skip
        return said

    theirs = eventually(stranger, lambda said: said["outcome"] != "ignored", timeout=10)
    assert (theirs["outcome"], theirs["ticket_id"] == ticket_id) == ("opened", False), theirs
    assert read_ticket(client, TENANT, theirs["ticket_id"])["links"] == {ticket_id: "related"}
    answer = client.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "Open tray 2, please.", "public": True})
    assert answer.status_code == 201, answer.text
    sent = eventually(lambda: list(bot_api.sent), lambda found: any("tray 2" in s["text"] for s in found), timeout=30)
    reply = next(s for s in sent if "tray 2" in s["text"])
    assert reply["reply_parameters"]["message_id"] == 40, "answered on Olga's message, not the stranger's"
    own = client.post(webhook, json=update(3, 42, olga, "Done, it works", 1001), headers=secret).json()
    assert (own["outcome"], own["ticket_id"]) == ("commented", ticket_id)
    assert [c["body"] for c in read_ticket(client, TENANT, ticket_id)["comments"]] == [
        "Open tray 2, please.", "Done, it works"
    ]  # fmt: skip
    assert not bot_api.wrong
