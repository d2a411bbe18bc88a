"""A ticket's lifecycle: work started, pending and resumed, resolved (and rated), reopened, closed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from services.intake.tickets.events.base import TicketEvent, set_status
from services.intake.tickets.vocabulary import Status

if TYPE_CHECKING:
    from services.intake.tickets.domain import Ticket


class WorkStarted(TicketEvent):
    reason: str

    def apply(self, ticket: Ticket) -> None:
        set_status(ticket, Status.OPEN, self.reason)


class MarkedPending(TicketEvent):
    waiting_for: str
    pending_until: datetime
    reason: str

    def apply(self, ticket: Ticket) -> None:
        set_status(ticket, Status.PENDING, self.reason)
        ticket.waiting_for = self.waiting_for
        ticket.pending_until = self.pending_until


class Resumed(TicketEvent):
    reason: str

    def apply(self, ticket: Ticket) -> None:
        set_status(ticket, Status.OPEN, self.reason)


class SurveyRequested(TicketEvent):
    reason: str

    def apply(self, ticket: Ticket) -> None:
        ticket.survey_requested = True


class Rated(TicketEvent):
    score: int
    comment: str
    reason: str

    def apply(self, ticket: Ticket) -> None:
        ticket.rating = {"score": self.score, "comment": self.comment}


class Resolved(TicketEvent):
    resolution: str
    reason: str

    def apply(self, ticket: Ticket) -> None:
        set_status(ticket, Status.RESOLVED, self.reason)
        ticket.resolution = self.resolution


class Reopened(TicketEvent):
    reason: str

    def apply(self, ticket: Ticket) -> None:
        set_status(ticket, Status.OPEN, self.reason)
        ticket.resolution = None


class Closed(TicketEvent):
    reason: str

    def apply(self, ticket: Ticket) -> None:
        set_status(ticket, Status.CLOSED, self.reason)
