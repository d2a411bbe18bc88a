"""Notifications by e-mail, through any SMTP relay (aiosmtplib).

Every mail threads: our deterministic Message-ID, `In-Reply-To` the customer's message (or our
last one when the route names none), `References` the thread so far, the subject tagged with
the ticket's number. It is marked `Auto-Submitted` (RFC 3834: `auto-replied` for the
acknowledgement, which answers the customer's mail, `auto-generated` for the rest), so another
desk's auto-responder does not answer it and start a loop.

An SMTP 4xx, a refused connection or a timeout is worth another attempt; a 5xx is final.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from services.chassis.runtime.settings import Settings
from services.intake.notifications.compose import Message
from services.intake.notifications.sender import Outcome

AUTO_REPLIED = {"acknowledgement"}  # answers to the customer's own message


def build_mail(message: Message, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.route.address
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = message.message_id
    parent = message.route.reply_to or (message.thread[-1] if message.thread else None)
    if parent:
        mail["In-Reply-To"] = parent
    references = list(dict.fromkeys([*([message.route.reply_to] if message.route.reply_to else []), *message.thread]))
    if references:
        mail["References"] = " ".join(references)
    mail["Auto-Submitted"] = "auto-replied" if message.kind in AUTO_REPLIED else "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"  # the same wish, as Exchange reads it
    mail["Content-Language"] = message.language
    mail.set_content(message.body)
    return mail


class MailSender:
    channel = "email"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._quitting: set[asyncio.Task[None]] = set()

    def unconfigured(self, tenant: str) -> str | None:
        if not self.settings.smtp_host:
            return "no SMTP relay configured (SERVICEDESK_SMTP_HOST): held until one is"
        if self.settings.mailbox_of(tenant) is None:
            return f"tenant {tenant} has no desk mailbox to send from (SERVICEDESK_MAILBOXES): held until it has"
        return None

    async def send(self, message: Message) -> Outcome:
        found = self.settings.mailbox_of(message.tenant)
        assert found is not None  # checked by `unconfigured` before every attempt
        mail = build_mail(message, found[0])
        try:
            reply = await self._transaction(mail)
        except aiosmtplib.SMTPRecipientsRefused as error:
            refused = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
            return Outcome(sent=False, error=f"recipient refused: {refused}", permanent=_permanent(error.recipients))
        except aiosmtplib.SMTPResponseException as error:
            said = f"{error.code} {error.message}"
            return Outcome(sent=False, error=f"SMTP {said}", reply=said, permanent=500 <= error.code < 600)
        except (aiosmtplib.SMTPException, OSError) as error:
            return Outcome(sent=False, error=f"{type(error).__name__}: {error}")
        return Outcome(sent=True, reply=f"250 {reply}")  # the DATA reply (aiosmtplib gives its text)

    async def _transaction(self, mail: EmailMessage) -> str:
        """Hand `mail` to the relay; the text of its `250` after the data. The session's QUIT goes on in the
        background: the mail is the relay's from the `250` on, and the mailer records it sent without waiting
        for another round trip (the window in which a killed mailer sends it twice)."""
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user,
            password=s.smtp_password,
            use_tls=s.smtp_tls == "tls",
            start_tls={"auto": None, "starttls": True}.get(s.smtp_tls, False),
            timeout=s.smtp_timeout_seconds,
        )
        try:
            await client.connect()
            _, reply = await client.send_message(mail)
        except BaseException:
            client.close()
            raise
        quitting = asyncio.create_task(_quit(client))
        self._quitting.add(quitting)  # held until done: the loop keeps only a weak reference to a task
        quitting.add_done_callback(self._quitting.discard)
        return reply


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass  # the mail was accepted before: a session the relay ends its own way loses nothing
    finally:
        client.close()


def _permanent(refusals: list[aiosmtplib.SMTPRecipientRefused]) -> bool:
    return all(500 <= r.code < 600 for r in refusals)
