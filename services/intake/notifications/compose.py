"""What one message says and where it goes: the ticket, its requester's language and route, the
rendered template, and the thread so far. Read fresh at each attempt, so a resend says the same
(its Message-ID and text come from the stored event, not from the moment)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.chassis.runtime.settings import Settings
from services.intake.channels.mail_threads import message_id, tagged
from services.intake.notifications.outbox import GROUP
from services.intake.notifications.templates import Templates
from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.people.finder import People
from services.intake.privacy.personal_data import ERASED, PersonalData
from services.intake.tickets.application import Intake
from services.intake.tickets.work import TicketNotFoundError

# The channels that open a ticket and then record where its requester is answered (channels/email_in.py, chat.py,
# telegram.py): a notification of such a ticket waits a moment for that route before the requester's address.
ROUTING_CHANNELS = frozenset({"email", "chat", "messenger"})


@dataclass(frozen=True)
class Message:
    tenant: str
    ticket_id: UUID
    kind: str
    route: ReplyRoute
    language: str
    subject: str  # tagged with the ticket's number
    body: str
    message_id: str  # ours, deterministic: a resend has the same one
    thread: list[str]  # the Message-IDs of the thread before this one, oldest first


class Undeliverable(Exception):
    """The message cannot be made (the ticket or the route is gone, the requester erased)."""


class Composer:
    def __init__(
        self,
        intake: Intake,
        people: People,
        conversations: Conversations,
        personal: PersonalData,
        templates: Templates,
        settings: Settings,
    ) -> None:
        self.intake = intake
        self.people = people
        self.conversations = conversations
        self.personal = personal
        self.templates = templates
        self.settings = settings

    def routes(self, tenant: str, ticket_id: UUID, fallback: bool = True) -> list[ReplyRoute]:
        """Where the ticket's requester is answered: the routes the channels recorded, and when they recorded
        no e-mail route, the address the requester is known by: with `fallback`, or at once for a ticket no
        channel opened (the API's, the portal's, a phone call's), as no channel will record a route for it.
        The ticket is read only when no e-mail route was recorded: most looks are one read of the routes."""
        routes = self.conversations.routes(tenant, ticket_id)
        if not any(route.channel == "email" for route in routes):
            ticket = self.intake.get_ticket(ticket_id, tenant)
            if fallback or ticket.channel not in ROUTING_CHANNELS:
                address = self.people.contact(tenant, ticket.requester_id, "email")
                routes += [ReplyRoute("email", address)] if address is not None else []
        return routes

    def compose(self, delivery: dict[str, Any], previous: list[str]) -> Message:
        tenant, ticket_id = delivery["tenant"], UUID(delivery["ticket_id"])
        group = delivery["kind"] == GROUP  # to an agent the trigger names: in the desk's language, no thread
        try:
            ticket = self.intake.get_ticket(ticket_id, tenant)
            routes = [] if group else self.routes(tenant, ticket_id)
            route = next(r for r in routes if r.channel == delivery["channel"]) if not group else _group_route(delivery)
        except TicketNotFoundError:
            raise Undeliverable("the ticket is not there") from None
        except StopIteration:
            raise Undeliverable(f"the requester has no {delivery['channel']} route any more") from None
        profile = self.people.profile(tenant, ticket.requester_id)
        if profile is not None and profile.erased:
            raise Undeliverable("the requester was erased")
        mailbox = self.settings.mailbox_of(tenant)
        mine = None if group else (profile.language if profile else None)
        language = mine or (mailbox[1].language if mailbox else None) or "en"
        previous = [] if group else previous
        details = {
            k: self.personal.unseal(tenant, v) if isinstance(v, str) else v
            for k, v in json.loads(delivery["details"]).items()
        }
        title = self.personal.unseal(tenant, ticket.title)
        if ERASED in (title, details.get("body")):
            raise Undeliverable("the text was erased with its author")
        portal = (self.settings.portal_url or "").replace("{tenant}", tenant)  # the web portal is per tenant
        context = details | {
            "number": ticket.number, "title": title, "ticket_id": str(ticket_id), "tenant": tenant,
            "name": profile.name if profile else None, "status": ticket.status,
            "rating_url": f"{portal.rstrip('/')}/tickets/{ticket_id}/rating" if portal else None,
            "rating_api": f"/v1/tickets/{ticket_id}/rating",
        }  # fmt: skip
        rendered = self.templates.render(tenant, language, delivery["kind"], context)
        domain = self.settings.mail_domain
        return Message(
            tenant=tenant,
            ticket_id=ticket_id,
            kind=delivery["kind"],
            route=route,
            language=language,
            subject=tagged(rendered.subject, ticket.number),
            body=rendered.body,
            message_id=message_id(ticket_id, delivery["message_key"], domain),
            thread=[message_id(ticket_id, key, domain) for key in previous],
        )


def _group_route(delivery: dict[str, Any]) -> ReplyRoute:
    """Where a group notice goes: the address the trigger named for the group."""
    return ReplyRoute("email", json.loads(delivery["details"])["address"])
