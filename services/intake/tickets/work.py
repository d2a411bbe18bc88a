"""The unit of work of a ticket command, and what a command answers.

`TicketWork` holds the tickets (and the numbering) one command reads and changes, for one tenant,
each loaded once; `Decided` is what the command made; an `Opening` is one queued request to open a
ticket and `OpenedTicket` what it opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import Recording

from services.chassis.storage.processing import UnitOfWork
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.domain import Ticket
from services.intake.tickets.form import TicketForm
from services.intake.tickets.numbering import TicketNumbers


@dataclass(frozen=True)
class Opening:
    """One queued request to open a ticket."""

    ticket_id: UUID
    form: TicketForm
    cause: Cause

    def ticket(self, numbers: TicketNumbers) -> Ticket:
        numbers.issue()
        with acting(self.cause):
            return Ticket.open_from(self.ticket_id, numbers.current, self.form)


class TicketNotFoundError(LookupError):
    pass


class StaleVersionError(Exception):
    """The ticket changed since the version the client read (If-Match)."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the ticket is at version {current}, not {expected}: read it again")
        self.expected = expected
        self.current = current


@dataclass(frozen=True)
class OpenedTicket:
    ticket: Ticket
    position: int | None  # store position of TicketOpened; None when it was opened before
    created: bool


class TicketWork(UnitOfWork):
    """The tickets (and the numbering) one command reads and changes, for one tenant, each loaded once."""

    def __init__(self, app: Application[UUID], tenant: str) -> None:
        super().__init__(app)
        self.tenant = tenant

    def find(self, ticket_id: UUID) -> Ticket | None:
        """The tenant's ticket, if there is one."""
        ticket = self.get(ticket_id, Ticket)
        return ticket if ticket is not None and ticket.tenant == self.tenant else None

    def ticket(self, ticket_id: UUID, expected_version: int | None = None) -> Ticket:
        """The tenant's ticket (TicketNotFoundError otherwise), at `expected_version` when given (If-Match)."""
        if (ticket := self.find(ticket_id)) is None:
            raise TicketNotFoundError(ticket_id)
        if expected_version is not None and ticket.version != expected_version:
            raise StaleVersionError(expected_version, ticket.version)
        return ticket

    def numbers(self, year: int) -> TicketNumbers:
        numbers = self.get(TicketNumbers.create_id(self.tenant, year), TicketNumbers)
        return numbers if numbers is not None else self.add(TicketNumbers(self.tenant, year))


@dataclass(frozen=True)
class Decided:
    """What a command made (`subject`), and the unit of work it decided in (None: a keyed retry)."""

    subject: UUID
    work: TicketWork | None
    recordings: list[Recording[UUID]] = field(default_factory=list)


def new_ticket_id(cause: Cause) -> UUID:
    """The id of the ticket a request opens: derived from its key, so a retry finds it again."""
    return cause.request.derived("ticket") if cause.request else uuid4()


def position_of(recordings: list[Any], aggregate_id: UUID) -> int:
    position: int = max(r.notification.id for r in recordings if r.domain_event.originator_id == aggregate_id)
    return position
