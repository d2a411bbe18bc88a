"""Which ticket a channel's message belongs to, and where to answer a ticket's requester.

A customer answers from wherever they are: a reply to our e-mail, a later message in the
same Telegram thread, the same web-chat conversation. Each such *thread key* (an e-mail
Message-ID, `<chat id>:<message id>` of a Telegram message, a chat conversation id) is bound
to its ticket by a `Thread` whose id is derived from the key's blind index, so finding the
ticket of a message is one lookup by id, and two deliveries of one message race to the same
id instead of opening two tickets.

Where the desk answers is the ticket's `ReplyRoutes`: per channel, the address (an e-mail
address, a Telegram chat id, a chat conversation id) and the message to answer. They are the
requester's personal data, sealed with the requester's key like everything else they wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from services.chassis.storage.ids import stable_uuid
from services.chassis.storage.processing import find
from services.intake.people.people import normalised
from services.intake.privacy.personal_data import ERASED, PersonalData

ATTEMPTS = 20


@dataclass(frozen=True)
class ReplyRoute:
    channel: str  # "email", "telegram", "chat"
    address: str  # the e-mail address, Telegram chat id or chat conversation id to answer on
    reply_to: str | None = None  # the message to answer (an e-mail Message-ID, a Telegram message id)


class Thread(Aggregate):
    """One channel thread key, bound to the ticket its messages land on."""

    @staticmethod
    def create_id(tenant: str, channel: str, blind: str) -> UUID:
        return stable_uuid("threads", tenant, channel, blind)

    @event("Bound")
    def __init__(self, tenant: str, channel: str, blind: str, ticket_id: str) -> None:
        self.tenant = tenant
        self.channel = channel
        self.blind = blind
        self.ticket_id = ticket_id


class ReplyRoutes(Aggregate):
    """Where a ticket's requester is answered, per channel (the newest route of a channel wins),
    and every address each channel answered on so far (`used`: the requester's thread)."""

    @staticmethod
    def create_id(tenant: str, ticket_id: str) -> UUID:
        return stable_uuid("reply-routes", tenant, ticket_id)

    @event("Started")
    def __init__(self, tenant: str, ticket_id: str, requester_id: str) -> None:
        self.tenant = tenant
        self.ticket_id = ticket_id
        self.requester_id = requester_id
        self.routes: dict[str, dict[str, Any]] = {}
        self.used: dict[str, list[str]] = {}

    def remember(self, channel: str, address: str, reply_to: str | None) -> None:
        route = {"address": address, "reply_to": reply_to}
        if self.routes.get(channel) != route:
            self._route_remembered(channel=channel, address=address, reply_to=reply_to)

    @event("RouteRemembered")
    def _route_remembered(self, channel: str, address: str, reply_to: str | None) -> None:
        self.routes = self.routes | {channel: {"address": address, "reply_to": reply_to}}
        self.used = self.used | {channel: [*self.used.get(channel, []), address]}


class Conversations:
    """Binds channel threads to tickets and keeps each ticket's reply routes, on intake's store."""

    def __init__(self, app: Application[UUID], personal: PersonalData) -> None:
        self.app = app
        self.personal = personal

    def ticket_of(self, tenant: str, channel: str, key: str) -> UUID | None:
        """The ticket a message of this thread key belongs to, if any."""
        thread = find(self.app, self._thread_id(tenant, channel, key), Thread)
        return UUID(thread.ticket_id) if thread is not None and thread.tenant == tenant else None

    def remember(
        self,
        tenant: str,
        ticket_id: UUID,
        requester_id: str,
        channel: str,
        keys: Sequence[str],
        route: ReplyRoute | None = None,
    ) -> UUID:
        """Bind `keys` to the ticket (a key bound before keeps its ticket, which is returned) and
        remember `route` as where to answer on `channel`; one transaction."""
        for _ in range(ATTEMPTS):
            changed: list[Aggregate] = []
            bound_to = ticket_id
            for key in keys:
                thread_id = self._thread_id(tenant, channel, key)
                existing = find(self.app, thread_id, Thread)
                if existing is not None:
                    bound_to = UUID(existing.ticket_id)
                    continue
                blind = self.personal.blind_index(tenant, f"{channel}:{key}")
                changed.append(Thread(tenant=tenant, channel=channel, blind=blind, ticket_id=str(ticket_id)))
            if route is not None:
                routes = self._routes(tenant, str(ticket_id)) or ReplyRoutes(tenant, str(ticket_id), requester_id)
                seal = self.personal.seal
                routes.remember(
                    route.channel,
                    seal(tenant, requester_id, route.address),
                    seal(tenant, requester_id, route.reply_to) if route.reply_to else None,
                )
                changed.append(routes)
            try:
                self.app.save(*changed)
            except IntegrityError:
                continue  # the same message delivered twice at once: look again
            return bound_to
        raise RuntimeError("could not bind the thread: too much contention")

    def bind(self, tenant: str, ticket_id: UUID, channel: str, key: str) -> None:
        """Bind one more thread key to the ticket (a message the desk sent, so an answer to it threads)."""
        self.remember(tenant, ticket_id, "", channel, [key])

    def routes(self, tenant: str, ticket_id: UUID) -> list[ReplyRoute]:
        """Where to answer the ticket's requester (routes of an erased requester are left out)."""
        routes = self._routes(tenant, str(ticket_id))
        if routes is None:
            return []
        found = []
        for channel, route in routes.routes.items():
            address = self.personal.unseal(tenant, route["address"])
            reply_to = self.personal.unseal(tenant, route["reply_to"]) if route["reply_to"] else None
            if address != ERASED:
                found.append(ReplyRoute(channel, address, reply_to))
        return found

    def has_used(self, tenant: str, ticket_id: UUID, channel: str, address: str) -> bool:
        """Whether the ticket's requester was ever answered at `address` on `channel` (compared
        opened, here: the routes stay sealed in the store)."""
        routes = self._routes(tenant, str(ticket_id))
        used = routes.used.get(channel, []) if routes is not None else []
        wanted = normalised(channel, address)
        return any(normalised(channel, self.personal.unseal(tenant, sealed)) == wanted for sealed in used)

    def _routes(self, tenant: str, ticket_id: str) -> ReplyRoutes | None:
        routes = find(self.app, ReplyRoutes.create_id(tenant, ticket_id), ReplyRoutes)
        return routes if routes is not None and routes.tenant == tenant else None

    def _thread_id(self, tenant: str, channel: str, key: str) -> UUID:
        return Thread.create_id(tenant, channel, self.personal.blind_index(tenant, f"{channel}:{key}"))
