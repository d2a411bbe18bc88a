"""Where a channel's message lands: a new ticket, or a comment on the ticket of its thread, once.

Every channel names each message with a key it can find again (`email:<Message-ID>`,
`telegram:<chat>:<message>`, `chat:<customer>:<conversation>:<n>`). The ticket a message opens
and the comment it adds are derived from that key, so the same message delivered twice (an SMTP
client retrying after a lost `250`, Telegram repeating an update) finds what it did the first
time instead of doing it again. Each step is stored before the channel acknowledges.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from services.chassis.storage.ids import stable_id
from services.intake.channels.participants import Participants, Sender, Standing
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.commands import ChannelMessage
from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import TicketClosedError
from services.intake.tickets.form import TicketForm, spoken
from services.intake.tickets.vocabulary import LinkKind, Status
from services.intake.tickets.work import TicketNotFoundError

MAX_TITLE = 200
MAX_TEXT = 100_000


@dataclass(frozen=True)
class StoredFile:
    """A file to attach, by its hash (its bytes go to the blob store under the ticket's requester)."""

    sha256: str
    size: int
    filename: str
    content_type: str


@dataclass(frozen=True)
class Incoming:
    tenant: str
    channel: str  # the ticket's channel: email, chat, messenger
    key: str  # names this one message, for good
    sender: Sender
    title: str
    text: str
    group_id: str | None = None
    organisation: str | None = None
    tags: list[str] = field(default_factory=list)
    files: Sequence[StoredFile] = ()
    language: str | None = None  # as the channel tags the message (`ru-RU`): the ticket's language

    def __post_init__(self) -> None:
        """No NUL characters (mail in a broken encoding can carry them): no text column holds one."""
        for name in ("key", "title", "text", "group_id", "organisation"):
            if (value := getattr(self, name)) is not None:
                object.__setattr__(self, name, value.replace("\x00", ""))
        object.__setattr__(self, "tags", [tag.replace("\x00", "") for tag in self.tags])

    @property
    def requester_id(self) -> str:
        return self.sender.requester_id


@dataclass(frozen=True)
class Landed:
    ticket_id: UUID
    number: str
    comment_id: str | None  # None: the message opened the ticket
    created: bool  # False: this message had landed before (a repeated delivery)
    reroutes: bool  # the requester's side, who may move the route: answer them where they wrote from

    @property
    def outcome(self) -> str:
        return "repeated" if not self.created else "opened" if self.comment_id is None else "commented"


class Landing:
    def __init__(self, intake: Intake, participants: Participants) -> None:
        self.intake = intake
        self.participants = participants

    def exists(self, ticket_id: UUID, tenant: str) -> bool:
        try:
            self.intake.get_ticket(ticket_id, tenant)
        except TicketNotFoundError:
            return False
        return True

    def land(self, incoming: Incoming, thread: UUID | None) -> Landed:
        """On `thread`'s ticket as a comment when the sender takes part in it, or as a new ticket
        (related to `thread`'s when an outsider named it); a message that opened a ticket before
        opens it again (which changes nothing but what a crash left undone)."""
        own = Ticket.id_for_request(incoming.tenant, incoming.key)
        if thread is None or thread == own:
            return self.open(incoming)
        try:
            named = self.intake.get_ticket(thread, incoming.tenant)
        except TicketNotFoundError:
            return self.open(incoming)
        standing = self.participants.standing(named, incoming.sender)
        if standing == Standing.OUTSIDER:
            return self.open(incoming, related_to=named)
        if self.exists(own, incoming.tenant):
            return self.open(incoming)
        try:
            return self.comment(thread, incoming, standing)
        except TicketClosedError:  # a closed ticket is final: the reply follows it up
            return self.open(incoming, follow_up_of=thread)

    def open(self, incoming: Incoming, follow_up_of: UUID | None = None, related_to: Ticket | None = None) -> Landed:
        ticket_id = Ticket.id_for_request(incoming.tenant, incoming.key)
        form = TicketForm(
            title=(incoming.title.strip() or "(no subject)")[:MAX_TITLE],
            description=_text(incoming.text),
            requester_id=incoming.requester_id,
            channel=incoming.channel,
            category="general",
            type="request",
            priority="P3",
            tags=list(incoming.tags),
            group_id=incoming.group_id,
            organisation=incoming.organisation,
            language=spoken(incoming.language),
        )
        opened = self.intake.open_ticket(ticket_id, form, _cause(incoming), follow_up_of)
        ticket = opened.ticket
        if related_to is not None and str(related_to.id) not in ticket.links and ticket.status != Status.CLOSED:
            reason = f"a message naming {related_to.number} came from someone who takes no part in it"
            ticket = self.intake.link(ticket_id, related_to.id, LinkKind.RELATED, reason, _cause(incoming))
        if incoming.files:
            ticket = self.intake.attach_files(ticket_id, _cause(incoming), _files(incoming, None))
        standing = self.participants.standing(ticket, incoming.sender)  # a repeated message: was it theirs?
        return Landed(ticket_id, ticket.number, None, opened.created, self._reroutes(ticket, incoming, standing))

    def comment(self, ticket_id: UUID, incoming: Incoming, standing: Standing) -> Landed:
        comment_id = f"{incoming.channel[:2]}-{_digest(incoming.key)[:16]}"
        message = ChannelMessage(
            comment_id, _text(incoming.text), incoming.channel,
            staff=standing == Standing.STAFF,  # authenticated staff: their reply meets response targets
            from_requester=standing == Standing.REQUESTER, files=_files(incoming, comment_id),
        )  # fmt: skip
        ticket, created = self.intake.add_message(ticket_id, _cause(incoming), message)
        return Landed(ticket_id, ticket.number, comment_id, created, self._reroutes(ticket, incoming, standing))

    def _reroutes(self, ticket: Ticket, incoming: Incoming, standing: Standing) -> bool:
        return standing == Standing.REQUESTER and self.participants.may_reroute(ticket, incoming.sender)


def _files(incoming: Incoming, comment_id: str | None) -> list[dict[str, Any]]:
    """The message's files as attachments, each named by the message and its place in it."""
    return [
        {"attachment_id": f"a-{_digest(f'{incoming.key}/{n}')[:12]}", "sha256": file.sha256,
         "filename": file.filename, "content_type": file.content_type, "size": file.size, "comment_id": comment_id}
        for n, file in enumerate(incoming.files)
    ]  # fmt: skip


def _cause(incoming: Incoming) -> Cause:
    correlation = stable_id("channels", incoming.tenant, incoming.key)
    return Cause(incoming.tenant, incoming.requester_id, correlation, f"{incoming.channel}:{correlation}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _text(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT:
        return text[:MAX_TEXT] + "\n[… the rest of this message was cut: it was too long]"
    return text
