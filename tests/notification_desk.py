"""A desk of one ticket whose acknowledgement is filled and routed, for the mailer's tests, on any store; and a
sender that records what it is given (an in-memory fake: the real senders meet real servers in other tests)."""

from __future__ import annotations

import uuid

from services.chassis.runtime.settings import Settings
from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.store import tracking_recorder
from services.intake.notifications.compose import Composer, Message
from services.intake.notifications.deliveries import Deliveries
from services.intake.notifications.mailer import Mailer
from services.intake.notifications.outbox import NotificationOutbox
from services.intake.notifications.sender import Outcome, Sender
from services.intake.notifications.templates import Templates
from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.people.finder import People
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from tests.privacy import desk_intake

AGENT = Cause("acme", "agent-7", "c", "c")


class Recording:
    """A sender that keeps what it is given, and says the server accepted it."""

    channel = "email"

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def unconfigured(self, tenant: str) -> str | None:
        return None

    async def send(self, message: Message) -> Outcome:
        self.sent.append(message)
        return Outcome(sent=True, reply="250 ok")


def outbox_of(intake: Intake, settings: Settings, start: int = 0) -> NotificationOutbox:
    def requester_of(ticket_id: uuid.UUID) -> str | None:
        return intake.get_ticket(ticket_id, "acme").requester_id

    return NotificationOutbox(tracking_recorder(settings, Intake.name), requester_of, store_position=start)


def mailer_with(
    settings: Settings, sender: Sender, claim_seconds: float = 60.0
) -> tuple[Mailer, Deliveries, uuid.UUID]:
    """A desk with one ticket of a requester known by e-mail, its acknowledgement filled and routed (`settings`
    names the tenant acme's mailbox)."""
    mailer, deliveries, ticket_id = mailer_before_routing(settings, sender, claim_seconds)
    assert mailer.route_waiting() == 1
    return mailer, deliveries, ticket_id


def mailer_before_routing(
    settings: Settings, sender: Sender, claim_seconds: float = 60.0, channel: str = "email", routed: bool = True
) -> tuple[Mailer, Deliveries, uuid.UUID]:
    """A desk with one ticket opened on `channel` by a requester known by e-mail, its acknowledgement filled; with
    `routed`, the route the mail channel records for it (the customer's message to answer)."""
    intake = desk_intake(settings)
    personal = intake.personal  # the keys the ticket's words were sealed with
    people, conversations = People(intake, personal), Conversations(intake, personal)
    jane = people.requester_for("acme", "email", "jane@example.com", "Jane", "en")
    ticket_id = uuid.uuid4()
    intake.open_ticket(ticket_id, TicketForm("VPN", "drops", jane, channel, "network", "incident", "P2"), AGENT)
    if routed:
        route = ReplyRoute("email", "jane@example.com", "<c1@x>")
        conversations.remember("acme", ticket_id, jane, "email", ["<c1@x>"], route)
    StoreProjector(intake, outbox_of(intake, settings)).catch_up()
    deliveries = Deliveries(tracking_recorder(settings, Intake.name), claim_seconds=claim_seconds)
    composer = Composer(intake, people, conversations, personal, Templates(), settings)
    return Mailer(deliveries, composer, [sender]), deliveries, ticket_id
