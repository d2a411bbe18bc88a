"""The Ticket aggregate and the counter that numbers tickets. Pure: no I/O here."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


class TicketNumbers(Aggregate):
    """Issues a tenant's ticket numbers for one year: dense, never reused.

    Saved in the same transaction as the ticket it numbers, so optimistic
    concurrency makes two concurrent openings take two different numbers.
    """

    @staticmethod
    def create_id(tenant: str, year: int) -> UUID:
        return uuid5(NAMESPACE_URL, f"/servicedesk/ticket-numbers/{tenant}/{year}")

    @event("Started")
    def __init__(self, tenant: str, year: int) -> None:
        self.tenant = tenant
        self.year = year
        self.last = 0

    @event("Issued")
    def issue(self) -> None:
        self.last += 1

    @property
    def current(self) -> str:
        return f"SD-{self.year}-{self.last:06d}"


class Ticket(Aggregate):
    """A request from a requester that the desk owes an answer. Its stream is its story."""

    class Event(Aggregate.Event):
        tenant: str
        actor: str
        metadata: dict[str, str]

    class Opened(Event, Aggregate.Created):
        number: str
        title: str
        description: str
        requester_id: str
        channel: str
        category: str
        type: str
        priority: str
        tags: list[str]

    @staticmethod
    def id_for_request(tenant: str, idempotency_key: str) -> UUID:
        """The id of the ticket a keyed request opens: a retried request finds the same ticket."""
        return uuid5(NAMESPACE_URL, f"/servicedesk/tickets/{tenant}/{idempotency_key}")

    @event(Opened)
    def __init__(
        self,
        id: UUID,
        tenant: str,
        number: str,
        title: str,
        description: str,
        requester_id: str,
        channel: str,
        category: str,
        type: str,
        priority: str,
        tags: list[str],
        actor: str,
        metadata: dict[str, str],
    ) -> None:
        self.tenant = tenant
        self.number = number
        self.title = title
        self.description = description
        self.requester_id = requester_id
        self.channel = channel
        self.category = category
        self.type = type
        self.priority = priority
        self.tags = list(tags)
        self.status = "new"
