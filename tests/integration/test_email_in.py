"""E-mail in, against the SMTP listener of a real intake process (PostgreSQL, Kafka), with the
standard library's smtplib as the customer's mail server."""

from __future__ import annotations

import hashlib
import os
import smtplib
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from services.intake.channels import mail_threads
from services.intake.tickets.domain import Ticket
from tests.client import eventually, headers, put_ok, read_ticket
from tests.harness import Desk, Service
from tests.mail import DESK_ADDRESS, MAIL_DOMAIN, a_message, connect, send, with_mailboxes

TENANT = "acme"


def ticket_of(message_id: str) -> str:
    """The ticket a new message opens (its id derives from the Message-ID: a retry finds it)."""
    return str(Ticket.id_for_request(TENANT, f"email:{message_id}"))


def tickets(client: httpx.Client) -> list[dict[str, Any]]:
    reply = client.get("/v1/tickets", headers=headers(TENANT))
    assert reply.status_code == 200, reply.text
    return reply.json()["tickets"]  # type: ignore[no-any-return]


class Mailroom:
    def __init__(self, desk: Desk, intake: Service, port: int) -> None:
        self.desk, self.intake, self.port = desk, intake, port
        self.http = httpx.Client(base_url=intake.url, timeout=30.0)


@pytest.fixture
def mailroom(desk: Desk) -> Iterator[Mailroom]:
    port = with_mailboxes(desk, SERVICEDESK_SMTP_MAX_BYTES=str(16 * 1024 * 1024))
    intake = desk.service("intake").start()
    room = Mailroom(desk, intake, port)
    yield room
    room.http.close()


def test_a_mail_opens_a_ticket_and_three_replies_thread_onto_it(mailroom: Mailroom) -> None:
    first = a_message()
    code, text = send(mailroom.port, first)
    assert code == 250, text
    ticket_id = ticket_of(first["Message-ID"])
    ticket = read_ticket(mailroom.http, TENANT, ticket_id)
    assert (ticket["channel"], ticket["title"], ticket["description"]) == (
        "email", "Printer on fire", "The printer on floor 3 is on fire."
    )  # fmt: skip
    assert ticket["number"] in text
    eventually(lambda: tickets(mailroom.http), lambda found: len(found) == 1)  # numbers are found in the list
    by_subject = a_message(f"Re: [{ticket['number']}] Printer on fire", "It is out now.")
    ours = mail_threads.message_id(UUID(ticket_id), "1", MAIL_DOMAIN)
    by_our_id = a_message("Re: your ticket", "Smoke again.\n\nOn Mon, Acme wrote:\n> is it out?", In_Reply_To=ours)
    by_references = a_message("Re: Printer on fire", "Fire brigade came.", References=first["Message-ID"])
    for reply in (by_subject, by_our_id, by_references):
        code, text = send(mailroom.port, reply)
        assert code == 250, text
    ticket = read_ticket(mailroom.http, TENANT, ticket_id)
    comments = [(c["body"], c["channel"], c["author_id"], c["public"]) for c in ticket["comments"]]
    requester = ticket["requester_id"]
    assert comments == [
        ("It is out now.", "email", requester, True), ("Smoke again.", "email", requester, True),
        ("Fire brigade came.", "email", requester, True),
    ]  # fmt: skip
    assert len(eventually(lambda: tickets(mailroom.http), lambda found: len(found) == 1)) == 1


def test_a_reply_threads_only_onto_a_ticket_of_the_same_tenant(mailroom: Mailroom) -> None:
    first = a_message()
    assert send(mailroom.port, first)[0] == 250
    ours = mail_threads.message_id(UUID(ticket_of(first["Message-ID"])), "1", MAIL_DOMAIN)
    elsewhere = a_message("Re: Printer", "Hello globex", to="help@globex.example", In_Reply_To=ours,
                          References=first["Message-ID"])  # fmt: skip
    assert send(mailroom.port, elsewhere, recipient="help@globex.example")[0] == 250
    assert read_ticket(mailroom.http, TENANT, ticket_of(first["Message-ID"]))["comments"] == []
    globex = mailroom.http.get(f"/v1/tickets/{Ticket.id_for_request('globex', 'email:' + elsewhere['Message-ID'])}",
                               headers=headers("globex"))  # fmt: skip
    assert globex.status_code == 200, globex.text


def test_noise_and_loops_are_refused_with_their_codes_and_open_nothing(mailroom: Mailroom) -> None:
    port = mailroom.port
    assert send(port, a_message(Auto_Submitted="auto-replied"))[0] == 550
    assert send(port, a_message("Undeliverable"), envelope_sender="")[0] == 550
    own = a_message(Message_ID=mail_threads.message_id(UUID(int=7), "1", MAIL_DOMAIN))
    assert send(port, own)[0] == 554
    code, text = send(port, a_message(), recipient="nobody@acme.example")
    assert (code, "5.1.1" in text) == (550, True)
    client = connect(port)
    with pytest.raises(smtplib.SMTPSenderRefused) as announced:  # SIZE announced: refused at MAIL FROM
        client.sendmail("jane@customer.example", [DESK_ADDRESS], b"x" * (17 * 1024 * 1024))
    assert announced.value.smtp_code == 552
    client.close()
    big = a_message(body="y" * 100)
    big.add_attachment(os.urandom(13 * 1024 * 1024), maintype="application", subtype="octet-stream", filename="b")
    assert send(port, big)[0] == 552  # nothing announced: refused at the end of DATA
    assert send(port, a_message(sender="not an address"))[0] == 550
    metrics = mailroom.http.get("/metrics").text
    for reason in ("auto_submitted", "bounce", "ours", "unknown_recipient", "malformed"):
        assert f'reason="{reason}"' in metrics, reason
    assert tickets(mailroom.http) == []


def test_a_10_mb_attachment_arrives_intact(mailroom: Mailroom) -> None:
    content = os.urandom(10 * 1024 * 1024)
    message = a_message("Crash dump", "Dump attached.")
    message.add_attachment(content, maintype="application", subtype="octet-stream", filename="core.dump")
    code, text = send(mailroom.port, message)
    assert code == 250, text
    ticket = read_ticket(mailroom.http, TENANT, ticket_of(message["Message-ID"]))
    [attachment] = ticket["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("core.dump", len(content))
    download = mailroom.http.get(f"/v1/tickets/{ticket['id']}/attachments/{attachment['id']}", headers=headers(TENANT))
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(content).hexdigest() == attachment["sha256"]


def test_a_mail_acknowledged_with_250_survives_a_sigkill_and_a_resend_changes_nothing(mailroom: Mailroom) -> None:
    first = a_message()
    assert send(mailroom.port, first)[0] == 250
    reply = a_message("Re: Printer on fire", "Still burning.", In_Reply_To=first["Message-ID"])
    code, _ = send(mailroom.port, reply)
    mailroom.intake.kill()  # right after the 250: no shutdown, nothing flushed
    assert code == 250
    mailroom.intake.start()
    ticket_id = ticket_of(first["Message-ID"])
    assert [c["body"] for c in read_ticket(mailroom.http, TENANT, ticket_id)["comments"]] == ["Still burning."]
    for again in (first, reply):  # the client never saw the 250 (say) and sends again
        assert send(mailroom.port, again)[0] == 250
    ticket = read_ticket(mailroom.http, TENANT, ticket_id)
    assert [c["body"] for c in ticket["comments"]] == ["Still burning."]
    assert ticket["version"] == read_ticket(mailroom.http, TENANT, ticket_id)["version"]
    assert [t["id"] for t in eventually(lambda: tickets(mailroom.http), lambda found: len(found) >= 1)] == [ticket_id]


def test_a_mailbox_with_a_default_group_puts_its_tickets_there_and_routing_still_picks_the_agent(desk: Desk) -> None:
    port = with_mailboxes(desk, group="billing")
    desk.service("routing").start()
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=30.0) as client:
        put_ok(client, TENANT, "/v1/routing/groups/first-line", {"tier": 1, "default": True})
        put_ok(client, TENANT, "/v1/routing/groups/billing", {"tier": 1})
        put_ok(client, TENANT, "/v1/routing/agents/ann", {"groups": ["billing"], "capacity": 3})
        put_ok(client, TENANT, "/v1/routing/agents/ann/presence", {"presence": "online"})
        message = a_message("Invoice twice", "I was billed twice.")
        assert send(port, message)[0] == 250
        ticket_id = ticket_of(message["Message-ID"])
        assert read_ticket(client, TENANT, ticket_id)["group_id"] == "billing"  # from the moment it opens
        ticket = eventually(lambda: read_ticket(client, TENANT, ticket_id), lambda t: t["agent_id"] == "ann")
        assert ticket["group_id"] == "billing"


def test_the_embedded_default_takes_mail_too(sqlite_desk: Desk) -> None:
    port = with_mailboxes(sqlite_desk)
    intake = sqlite_desk.service("intake").start()
    first = a_message()
    assert send(port, first)[0] == 250
    assert send(port, a_message("Re: Printer on fire", "Out now.", References=first["Message-ID"]))[0] == 250
    with httpx.Client(base_url=intake.url, timeout=30.0) as client:
        ticket = read_ticket(client, TENANT, ticket_of(first["Message-ID"]))
        assert [c["body"] for c in ticket["comments"]] == ["Out now."]
        number = ticket["number"]
        eventually(lambda: tickets(client), lambda found: len(found) == 1)  # the list has it: the subject finds it
    assert send(port, a_message(f"Re: [{number}]", "And thanks."))[0] == 250
    with httpx.Client(base_url=intake.url, timeout=30.0) as client:
        assert len(read_ticket(client, TENANT, ticket_of(first["Message-ID"]))["comments"]) == 2
