"""E-mail onto tickets, in memory: threading, a retried delivery, tenants kept apart, the sender's rate limit."""

from __future__ import annotations

from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from uuid import UUID

import pytest
from prometheus_client import CollectorRegistry

from services.chassis.http.rate_limit import RateLimiter
from services.chassis.runtime.channel_settings import Mailbox
from services.intake.attachments.blobs import FileBlobStore
from services.intake.channels import mail_threads
from services.intake.channels.email_in import EmailIntake
from services.intake.channels.landing import Landed, Landing
from services.intake.channels.loops import Refusal
from services.intake.channels.participants import Participants, Sender, StaffDirectory, Standing
from services.intake.channels.telemetry import ChannelCounters
from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.people.finder import People
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.work import TicketNotFoundError
from tests.mail import a_message
from tests.privacy import memory_intake

DOMAIN = "desk.test"
AUTHSERV_ID = "mx.desk.test"
STAFF = "Ann Agent <ann@acme.example>"
LIMIT = 5  # new messages a minute per sender
BOXES = {
    "support@acme.example": Mailbox(tenant="acme", group="billing"),
    "help@globex.example": Mailbox(tenant="g"),
}


def numbered_in(intake: Intake) -> Callable[[str, str], UUID | None]:
    """The ticket numbered so, as the ticket list would answer (here from the notification log)."""

    def numbered(tenant: str, number: str) -> UUID | None:
        for notification in intake.recorder.select_notifications(1, 10_000):
            if not notification.topic.endswith("Ticket.Opened"):
                continue
            try:
                ticket = intake.get_ticket(UUID(str(notification.originator_id)), tenant)
            except TicketNotFoundError:
                continue
            if ticket.number == number:
                return ticket.id
        return None

    return numbered


@pytest.fixture
def desk(tmp_path: Path) -> tuple[EmailIntake, Intake]:
    intake = memory_intake()
    personal = intake.personal
    conversations = Conversations(intake, personal)
    landing = Landing(intake, Participants(conversations, StaffDirectory({"acme": ["ann@acme.example"]})))
    email = EmailIntake(BOXES, DOMAIN, landing, People(intake, personal), conversations, FileBlobStore(tmp_path),
                        numbered_in(intake), RateLimiter(LIMIT), ChannelCounters(CollectorRegistry()),
                        1024 * 1024, AUTHSERV_ID)  # fmt: skip
    return email, intake


def deliver(email: EmailIntake, message: EmailMessage, to: str = "support@acme.example") -> Landed:
    return email.receive(message.as_bytes(policy=policy.SMTP), "j@customer.example", to)


def numbered_ticket(desk: tuple[EmailIntake, Intake]) -> tuple[EmailMessage, UUID, str]:
    """A mail that opened a ticket, the ticket's id and its number."""
    email, intake = desk
    first = a_message()
    ticket_id = deliver(email, first).ticket_id
    return first, ticket_id, intake.get_ticket(ticket_id, "acme").number


def test_a_new_mail_opens_a_ticket_in_the_mailboxs_group(desk: tuple[EmailIntake, Intake]) -> None:
    email, intake = desk
    landed = deliver(email, a_message())
    ticket = intake.get_ticket(landed.ticket_id, "acme")
    assert (ticket.channel, ticket.group_id, landed.outcome) == ("email", "billing", "opened")


def test_replies_thread_by_our_message_id_by_an_earlier_message_and_by_the_subject(
    desk: tuple[EmailIntake, Intake],
) -> None:
    email, intake = desk
    first, ticket_id, number = numbered_ticket(desk)
    replies = [
        a_message("Re: x", "one", In_Reply_To=mail_threads.message_id(ticket_id, "3", DOMAIN)),
        a_message("Re: x", "two", References=first["Message-ID"]),
        a_message(f"Re: [{number}] x", "three"),
    ]
    assert [deliver(email, reply).ticket_id for reply in replies] == [ticket_id] * 3
    comments = intake.get_ticket(ticket_id, "acme").comments.values()
    assert [intake.personal.unseal("acme", c["body"]) for c in comments] == ["one", "two", "three"], "sealed"


def test_a_message_delivered_twice_lands_once(desk: tuple[EmailIntake, Intake]) -> None:
    email, intake = desk
    first = a_message()
    reply = a_message("Re: x", "again?", In_Reply_To=first["Message-ID"])
    opened, commented = deliver(email, first), deliver(email, reply)
    version = intake.get_ticket(opened.ticket_id, "acme").version
    assert [deliver(email, first).outcome, deliver(email, reply).outcome] == ["repeated", "repeated"]
    assert intake.get_ticket(opened.ticket_id, "acme").version == version
    assert commented.ticket_id == opened.ticket_id


def test_a_reply_to_another_tenants_ticket_opens_a_ticket_of_its_own(desk: tuple[EmailIntake, Intake]) -> None:
    email, intake = desk
    acme = deliver(email, a_message()).ticket_id
    reply = a_message("Re: x", "hello", In_Reply_To=mail_threads.message_id(acme, "1", DOMAIN))
    globex = deliver(email, reply, to="help@globex.example")
    assert globex.ticket_id != acme
    assert intake.get_ticket(globex.ticket_id, "g").tenant == "g"


def test_a_reply_to_a_closed_ticket_follows_it_up(desk: tuple[EmailIntake, Intake]) -> None:
    email, intake = desk
    first = a_message()
    ticket_id = deliver(email, first).ticket_id
    cause = Cause("acme", "agent-1", "c", "c")
    intake.resolve(ticket_id, cause, "fixed", "fixed")
    intake.close_ticket(ticket_id, cause, "done")
    follow_up = deliver(email, a_message("Re: x", "it broke again", References=first["Message-ID"]))
    assert follow_up.ticket_id != ticket_id
    assert intake.get_ticket(follow_up.ticket_id, "acme").follow_up_of == str(ticket_id)


def test_a_sender_over_the_rate_limit_is_told_to_come_back_later(desk: tuple[EmailIntake, Intake]) -> None:
    email, _ = desk
    for _ in range(LIMIT):
        deliver(email, a_message())
    with pytest.raises(Refusal) as refused:
        deliver(email, a_message())
    assert (refused.value.reason, refused.value.code) == ("rate_limited", 450)
    deliver(email, a_message(sender="Other <other@customer.example>"))  # others still get through


def test_a_stranger_naming_a_ticket_by_number_or_thread_gets_a_ticket_of_their_own(
    desk: tuple[EmailIntake, Intake],
) -> None:
    email, intake = desk
    first, ticket_id, number = numbered_ticket(desk)
    stranger = "Mallory <mallory@elsewhere.example>"
    naming = [
        a_message(f"Re: [{number}] x", "by number", sender=stranger),
        a_message("Re: x", "by our id", sender=stranger, In_Reply_To=mail_threads.message_id(ticket_id, "3", DOMAIN)),
        a_message("Re: x", "by the thread", sender=stranger, References=first["Message-ID"]),
    ]
    landed = [deliver(email, message) for message in naming]
    assert [(it.outcome, it.ticket_id != ticket_id, it.reroutes) for it in landed] == [("opened", True, True)] * 3
    assert intake.get_ticket(ticket_id, "acme").comments == {}
    assert all(intake.get_ticket(it.ticket_id, "acme").links == {str(ticket_id): "related"} for it in landed)


def test_staff_are_an_address_or_a_domain_of_the_tenant_or_a_telegram_user() -> None:
    staff = StaffDirectory({"acme": ["Ann@acme.example", "@ops.acme.example", "telegram:4711"]})
    assert staff.includes("acme", "email", "ann@ACME.example")
    assert staff.includes("acme", "email", "bob@ops.acme.example")
    assert staff.includes("acme", "telegram", "4711")
    assert not staff.includes("acme", "email", "bob@acme.example")
    assert not staff.includes("acme", "email", "ann@evil-ops.acme.example.com")
    assert not staff.includes("globex", "email", "ann@acme.example")
    assert not staff.includes("acme", "telegram", "4712")


def vouched(domain: str, authserv_id: str = AUTHSERV_ID) -> str:
    """The Authentication-Results header a mail server writes for a mail whose DMARC passed."""
    return f"{authserv_id}; spf=pass smtp.mailfrom={domain}; dmarc=pass header.from={domain}"


def test_staff_mail_lands_as_staffs_only_when_the_desks_mail_server_authenticated_it(
    desk: tuple[EmailIntake, Intake],
) -> None:
    email, intake = desk
    ticket_id = deliver(email, a_message()).ticket_id
    number = intake.get_ticket(ticket_id, "acme").number
    forged = deliver(email, a_message(f"Re: [{number}] x", "Done, closing.", sender=STAFF))
    theirs = vouched("acme.example", "mx.evil.example")
    elsewhere = deliver(email, a_message(f"Re: [{number}] x", "Done.", sender=STAFF, Authentication_Results=theirs))
    assert [(it.outcome, it.ticket_id != ticket_id) for it in (forged, elsewhere)] == [("opened", True)] * 2
    assert intake.get_ticket(ticket_id, "acme").comments == {}
    staff = deliver(email, a_message(f"Re: [{number}] x", "Which client?", sender=STAFF,
                                     Authentication_Results=vouched("acme.example")))  # fmt: skip
    assert (staff.outcome, staff.ticket_id, staff.reroutes) == ("commented", ticket_id, False)
    [comment] = intake.get_ticket(ticket_id, "acme").comments.values()
    assert comment["author_kind"] == "staff"


def test_an_unauthenticated_mail_of_the_requester_lands_but_cannot_move_where_the_desk_answers(
    desk: tuple[EmailIntake, Intake],
) -> None:
    """It advances the message answered at the address the desk answers at, and nothing more."""
    email, intake = desk
    participants = email.landing.participants
    old, first = "jane@old.example", a_message(sender="Jane <jane@old.example>")
    ticket = intake.get_ticket(deliver(email, first).ticket_id, "acme")
    conversations = participants.conversations
    assert conversations.routes("acme", ticket.id) == [ReplyRoute("email", old, first["Message-ID"])]
    conversations.remember("acme", ticket.id, ticket.requester_id, "email", [], ReplyRoute("email", "jane@new.example"))
    claims_old = Sender(ticket.requester_id, "email", old.upper(), authenticated=False)
    assert participants.standing(ticket, claims_old) == Standing.REQUESTER, "their words still land"
    assert not participants.may_reroute(ticket, claims_old)
    assert participants.may_reroute(ticket, Sender(ticket.requester_id, "email", old, authenticated=True))
    assert participants.may_reroute(ticket, Sender(ticket.requester_id, "email", "Jane@New.example", False))
    assert participants.may_reroute(ticket, Sender(ticket.requester_id, "telegram", "4711", False)), "no route there"
    unvouched = deliver(email, a_message(f"Re: [{ticket.number}] x", "Write to my old address.", sender=old))
    assert (unvouched.outcome, unvouched.reroutes) == ("commented", False)
    assert conversations.routes("acme", ticket.id) == [ReplyRoute("email", "jane@new.example")]
    back = a_message(f"Re: [{ticket.number}] x", "Back at the old one.", sender=old,
                     Authentication_Results=vouched("old.example"))  # fmt: skip
    assert deliver(email, back).reroutes
    assert conversations.routes("acme", ticket.id) == [ReplyRoute("email", old, back["Message-ID"])]
