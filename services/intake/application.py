"""Intake's event-sourced application: the commands that change tickets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import IntegrityError

from services.intake.domain import Ticket, TicketNumbers

NUMBERING_ATTEMPTS = 50


@dataclass(frozen=True)
class TicketForm:
    """What a requester fills in to open a ticket (already validated at the edge)."""

    title: str
    description: str
    requester_id: str
    channel: str
    category: str
    type: str
    priority: str
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cause:
    """Who asked, and which request or event this command answers."""

    tenant: str
    actor: str
    correlation_id: str
    causation_id: str
    traceparent: str | None = None

    def metadata(self) -> dict[str, str]:
        meta = {
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }
        return meta | ({"traceparent": self.traceparent} if self.traceparent else {})


class TicketNotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class OpenedTicket:
    ticket: Ticket
    position: int | None  # store position of TicketOpened; None when it was opened before
    created: bool


class Intake(Application[UUID]):
    name = "intake"
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {
        TicketNumbers: 100,
        Ticket: 100,
    }

    def open_ticket(self, ticket_id: UUID, form: TicketForm, cause: Cause) -> OpenedTicket:
        """Number and open a ticket in one transaction.

        Opening an id that exists returns that ticket unchanged: a retried request
        (same idempotency key) never opens a second ticket.
        """
        for _ in range(NUMBERING_ATTEMPTS):
            numbers = self._numbers(cause.tenant, datetime.now(UTC).year)
            numbers.issue()
            ticket = Ticket(
                ticket_id, cause.tenant, numbers.current, form.title, form.description, form.requester_id,
                form.channel, form.category, form.type, form.priority, form.tags, cause.actor, cause.metadata(),
            )  # fmt: skip
            try:
                recordings = self.save(numbers, ticket)
            except IntegrityError:
                if (existing := self._find(ticket_id, cause.tenant)) is not None:
                    return OpenedTicket(existing, position=None, created=False)
                continue  # a concurrent opening took this number: take the next
            return OpenedTicket(ticket, position=max(r.notification.id for r in recordings), created=True)
        raise RuntimeError("could not number a ticket: too much contention")

    def get_ticket(self, ticket_id: UUID, tenant: str) -> Ticket:
        try:
            ticket: object = self.repository.get(ticket_id)
        except AggregateNotFoundError:
            raise TicketNotFoundError(ticket_id) from None
        if not isinstance(ticket, Ticket) or ticket.tenant != tenant:
            raise TicketNotFoundError(ticket_id)
        return ticket

    def _find(self, ticket_id: UUID, tenant: str) -> Ticket | None:
        try:
            return self.get_ticket(ticket_id, tenant)
        except TicketNotFoundError:
            return None

    def _numbers(self, tenant: str, year: int) -> TicketNumbers:
        try:
            numbers: object = self.repository.get(TicketNumbers.create_id(tenant, year))
        except AggregateNotFoundError:
            return TicketNumbers(tenant, year)
        assert isinstance(numbers, TicketNumbers)
        return numbers
