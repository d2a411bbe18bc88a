"""E-mail in: one received message (from the SMTP listener or the IMAP poller) onto its ticket.

Threading, most exact first: the message itself was stored before (a retried delivery); its
`In-Reply-To`/`References` name a Message-ID the desk sent (`mail_threads`), or an earlier
message of the same thread; its subject carries a ticket number. Only a ticket of the tenant
the desk address belongs to is ever found, and the message lands there only from one of the
ticket's participants (`Landing`): a stranger's opens a ticket of their own, and so does mail
from a staff address that the desk's mail server did not authenticate (`mail_authentication`,
`SERVICEDESK_MAIL_AUTHSERV_ID`). Otherwise the message opens a ticket in the address's default
group. Everything is stored before this returns, so the caller's `250` (or IMAP's `\\Seen`) comes
after the message is safe.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from uuid import UUID

from services.chassis.http.rate_limit import RateLimited, RateLimiter
from services.chassis.runtime.channel_settings import Mailbox
from services.intake.attachments.blob_store import BlobErasedError, BlobStore, Owner
from services.intake.channels import loops, mail_authentication, mail_threads, mime
from services.intake.channels.landing import Incoming, Landed, Landing, StoredFile
from services.intake.channels.loops import Refusal
from services.intake.channels.participants import Sender
from services.intake.channels.telemetry import ChannelCounters
from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.people.finder import People

log = logging.getLogger(__name__)

NumberLookup = Callable[[str, str], UUID | None]  # (tenant, ticket number) -> the ticket


class EmailIntake:
    def __init__(
        self,
        mailboxes: Mapping[str, Mailbox],
        domain: str,
        landing: Landing,
        people: People,
        conversations: Conversations,
        blobs: BlobStore,
        numbered: NumberLookup,
        limiter: RateLimiter,
        counters: ChannelCounters,
        max_attachment: int,
        authserv_id: str | None,
    ) -> None:
        self.mailboxes = {address.lower(): box for address, box in mailboxes.items()}
        self.domain = domain
        self.landing = landing
        self.people = people
        self.conversations = conversations
        self.blobs = blobs
        self.numbered = numbered
        self.limiter = limiter
        self.counters = counters
        self.max_attachment = max_attachment
        self.authserv_id = authserv_id  # the mail server whose Authentication-Results are believed

    def mailbox(self, address: str) -> Mailbox | None:
        return self.mailboxes.get(address.strip("<> ").lower())

    def receive(self, raw: bytes, envelope_sender: str, recipient: str) -> Landed:
        """Store the message sent to the desk address `recipient`; Refusal when it is not taken."""
        try:
            landed = self._receive(raw, envelope_sender, recipient)
        except Refusal as refused:
            self.counters.refused("email", refused.reason)
            log.warning("mail to %s refused: %s (%d)", recipient, refused.reason, refused.code)  # no sender: personal
            raise
        self.counters.landed("email", landed)
        return landed

    def _receive(self, raw: bytes, envelope_sender: str, recipient: str) -> Landed:
        box = self.mailbox(recipient)
        if box is None:
            raise Refusal("unknown_recipient", 550, f"5.1.1 <{recipient}>: no such desk address")
        try:
            mail = mime.parse(raw)
        except mime.MalformedMailError as error:
            raise Refusal("malformed", 550, f"5.6.0 malformed message ({error.part}): {error}") from None
        if (refused := loops.refusal(mail, envelope_sender, self.domain)) is not None:
            raise refused
        tenant = box.tenant
        thread = self.conversations.ticket_of(tenant, "email", mail.message_id)  # stored before: a retry
        if thread is None:
            self._limit(tenant, mail.sender)
            thread = self._thread_of(tenant, mail)
        requester = self.people.requester_for(
            tenant, "email", mail.sender, mail.sender_name, mail.language or box.language
        )
        authenticated = mail_authentication.authenticated(mail.authentication_results, self.authserv_id, mail.sender)
        incoming = Incoming(
            tenant=tenant,
            channel="email",
            key=f"email:{mail.message_id}",
            sender=Sender(requester, "email", mail.sender, authenticated),
            title=mail.subject,
            text=mail.text,
            group_id=box.group,
            files=self._files(mail),
            language=mail.language or box.language,
        )
        landed = self.landing.land(incoming, thread)
        if mail.attachments:
            owner = self.landing.intake.get_ticket(landed.ticket_id, tenant).requester_id
            self._store(mail, Owner(tenant, owner))
        route = ReplyRoute("email", mail.sender, mail.message_id) if landed.reroutes else None
        self.conversations.remember(tenant, landed.ticket_id, requester, "email", [mail.message_id], route)
        return landed

    def _thread_of(self, tenant: str, mail: mime.Mail) -> UUID | None:
        answered = " ".join(mail.thread_ids)
        for ticket_id in reversed(mail_threads.tickets_in(answered, self.domain)):
            if self.landing.exists(ticket_id, tenant):
                return ticket_id
        for message_id in reversed(mail.thread_ids):
            if (found := self.conversations.ticket_of(tenant, "email", message_id)) is not None:
                return found
        number = mail_threads.number_in(mail.subject)
        return self.numbered(tenant, number) if number is not None else None

    def _limit(self, tenant: str, sender: str) -> None:
        try:
            self.limiter.take(f"{tenant}/{sender.lower()}")
        except RateLimited as limited:
            wait = limited.extra["retry_after"]
            raise Refusal("rate_limited", 450, f"4.7.1 too many messages from <{sender}>: retry in {wait} s") from None

    def _files(self, mail: mime.Mail) -> list[StoredFile]:
        """The message's files as its ticket will name them; a file too large refuses the message."""
        files = []
        for attachment in mail.attachments:
            if len(attachment.content) > self.max_attachment:
                raise Refusal(
                    "too_large", 552, f"5.3.4 {attachment.filename} is larger than {self.max_attachment} bytes"
                )
            sha256 = hashlib.sha256(attachment.content).hexdigest()
            files.append(StoredFile(sha256, len(attachment.content), attachment.filename, attachment.content_type))
        return files

    def _store(self, mail: mime.Mail, owner: Owner) -> None:
        """The files' bytes, under the requester of the ticket they landed on (known only once landed).
        Stored before the message is acknowledged: a crash before this has it delivered again. A
        requester erased meanwhile keeps none (the store refuses them, leaving nothing behind)."""
        for attachment in mail.attachments:
            try:
                self.blobs.put(owner, attachment.content)
            except BlobErasedError:
                log.info("the files of a message were not kept: its requester was erased meanwhile")
                return
