"""Mail as a customer's mail client and server send it (the standard library's email and smtplib)."""

from __future__ import annotations

import json
import smtplib
import time
import uuid
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

from tests.harness import Desk, free_port

DESK_ADDRESS = "support@acme.example"
MAIL_DOMAIN = "desk.test"


def with_mailboxes(desk: Desk, group: str | None = None, **settings: str) -> int:
    """Give the desk its address (tenant acme) and an SMTP port; the port."""
    port = free_port()
    desk.env |= {
        "SERVICEDESK_SMTP_LISTEN_PORT": str(port), "SERVICEDESK_MAIL_DOMAIN": MAIL_DOMAIN,
        "SERVICEDESK_MAILBOXES": json.dumps({DESK_ADDRESS: {"tenant": "acme", "group": group, "language": "en"},
                                             "help@globex.example": {"tenant": "globex"}}),
    } | settings  # fmt: skip
    return port


def a_message(
    subject: str = "Printer on fire", body: str = "The printer on floor 3 is on fire.",
    sender: str = "Jane Roe <jane@customer.example>", to: str = DESK_ADDRESS, **headers: str,
) -> EmailMessage:  # fmt: skip
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = headers.pop("Message_ID", make_msgid(f"m{uuid.uuid4().hex[:8]}", "customer.example"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def connect(port: int, patience: float = 20.0) -> smtplib.SMTP:
    """An SMTP session with the listener (which opens a moment after the service is ready)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            client = smtplib.SMTP("127.0.0.1", port, timeout=60)
            client.ehlo("client.customer.example")
            return client
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def send(port: int, message: EmailMessage, envelope_sender: str = "jane@customer.example",
         recipient: str = DESK_ADDRESS) -> tuple[int, str]:  # fmt: skip
    """MAIL, RCPT, DATA by hand (no SIZE announced): the reply to DATA, or to whichever command refused."""
    client = connect(port)
    try:
        for reply in (client.mail(envelope_sender), client.rcpt(recipient)):
            if reply[0] >= 400:
                return reply[0], reply[1].decode()
        code, text = client.data(message.as_bytes(policy=policy.SMTP))  # CRLF line ends, as on the wire
        return code, text.decode()
    finally:
        client.close()
