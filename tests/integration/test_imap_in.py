"""IMAP polling of a real mailbox (a private Dovecot) by a real intake process (PostgreSQL, Kafka)."""

from __future__ import annotations

import imaplib
import time
from email import policy

import httpx

from tests.client import eventually, read_ticket
from tests.harness import Desk
from tests.imap_server import imap_server
from tests.integration.test_email_in import TENANT, ticket_of
from tests.mail import DESK_ADDRESS, a_message, with_mailboxes


def test_messages_in_a_mailbox_become_a_ticket_and_its_comment_and_are_marked_seen_once_stored(
    desk: Desk,
) -> None:
    with imap_server() as server:
        with_mailboxes(desk)
        desk.env |= {
            "SERVICEDESK_IMAP_HOST": "127.0.0.1", "SERVICEDESK_IMAP_PORT": str(server.port),
            "SERVICEDESK_IMAP_SSL": "false", "SERVICEDESK_IMAP_USER": server.user,
            "SERVICEDESK_IMAP_PASSWORD": server.password, "SERVICEDESK_IMAP_ADDRESS": DESK_ADDRESS,
            "SERVICEDESK_IMAP_POLL_SECONDS": "0.5",
        }  # fmt: skip
        first = a_message("Cannot log in", "My password expired.", Return_Path="<jane@customer.example>")
        reply = a_message("Re: Cannot log in", "Now it is locked.", References=first["Message-ID"])
        vacation = a_message("Out of office", "Back on Monday.", Auto_Submitted="auto-replied")
        mailbox = imaplib.IMAP4("127.0.0.1", server.port)
        mailbox.login(server.user, server.password)
        for message in (first, reply, vacation):
            status, _ = mailbox.append("INBOX", None, None, message.as_bytes(policy=policy.SMTP))
            assert status == "OK"
        intake = desk.service("intake").start()
        with httpx.Client(base_url=intake.url, timeout=30.0) as client:
            ticket_id = ticket_of(first["Message-ID"])
            ticket = eventually(lambda: read_ticket(client, TENANT, ticket_id), lambda t: len(t["comments"]) == 1)
            assert (ticket["channel"], ticket["description"]) == ("email", "My password expired.")
            assert [c["body"] for c in ticket["comments"]] == ["Now it is locked."]
            mailbox.select("INBOX")
            seen = eventually(lambda: mailbox.uid("SEARCH", "UNSEEN")[1][0].split(), lambda unseen: not unseen)
            assert seen == []  # the vacation reply too: refused (and counted), not retried forever
            assert 'reason="auto_submitted"' in client.get("/metrics").text
            time.sleep(1.5)  # a few more polls: nothing is received twice
            assert read_ticket(client, TENANT, ticket_id)["version"] == ticket["version"]
        mailbox.logout()
