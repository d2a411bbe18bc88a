"""Intake's event-sourced application: the commands that change tickets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import IntegrityError

from services.chassis.group_commit import GroupCommit
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


@dataclass(frozen=True)
class Opening:
    """One queued request to open a ticket."""

    ticket_id: UUID
    form: TicketForm
    cause: Cause

    def ticket(self, numbers: TicketNumbers) -> Ticket:
        numbers.issue()
        form, cause = self.form, self.cause
        return Ticket(
            self.ticket_id, cause.tenant, numbers.current, form.title, form.description, form.requester_id,
            form.channel, form.category, form.type, form.priority, form.tags, cause.actor, cause.metadata(),
        )  # fmt: skip


class TicketNotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class OpenedTicket:
    ticket: Ticket
    position: int | None  # store position of TicketOpened; None when it was opened before
    created: bool


class Intake(Application[UUID]):
    name = "intake"
    # Cached aggregates are fast-forwarded from the store on every get, so the
    # cache saves replays without ever serving a stale version.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "10000"}
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {
        TicketNumbers: 100,
        Ticket: 100,
    }

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._opening = GroupCommit(self._open_together)

    def open_ticket(self, ticket_id: UUID, form: TicketForm, cause: Cause) -> OpenedTicket:
        """Number and open a ticket. Opening an id that exists returns that ticket
        unchanged: a retried request (same idempotency key) never opens a second one."""
        return self._opening.submit((cause.tenant, datetime.now(UTC).year), Opening(ticket_id, form, cause))

    def get_ticket(self, ticket_id: UUID, tenant: str) -> Ticket:
        try:
            ticket: object = self.repository.get(ticket_id)
        except AggregateNotFoundError:
            raise TicketNotFoundError(ticket_id) from None
        if not isinstance(ticket, Ticket) or ticket.tenant != tenant:
            raise TicketNotFoundError(ticket_id)
        return ticket

    def _open_together(self, key: tuple[str, int], openings: list[Opening]) -> list[OpenedTicket]:
        """One transaction numbers and opens every ticket queued for a tenant."""
        numbers = self._numbers(*key)
        tickets = [opening.ticket(numbers) for opening in openings]
        try:
            recordings = self.save(numbers, *tickets)
        except IntegrityError:  # a replayed ticket, or another instance numbered first
            return [self._open_alone(key, opening) for opening in openings]
        positions = {r.domain_event.originator_id: r.notification.id for r in recordings}
        return [OpenedTicket(ticket, positions[ticket.id], created=True) for ticket in tickets]

    def _open_alone(self, key: tuple[str, int], opening: Opening) -> OpenedTicket:
        for _ in range(NUMBERING_ATTEMPTS):
            if (existing := self._find(opening.ticket_id, opening.cause.tenant)) is not None:
                return OpenedTicket(existing, position=None, created=False)
            numbers = self._numbers(*key)
            ticket = opening.ticket(numbers)
            try:
                recordings = self.save(numbers, ticket)
            except IntegrityError:
                continue
            return OpenedTicket(ticket, max(r.notification.id for r in recordings), created=True)
        raise RuntimeError("could not number a ticket: too much contention")

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
