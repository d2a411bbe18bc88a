"""A ticket's lifecycle: work started, pending and resumed, resolved (and rated), reopened, closed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from services.intake.tickets.events.base import StatusChanged, TicketEvent
from services.intake.tickets.vocabulary import Status

if TYPE_CHECKING:
    from services.intake.tickets.domain import Ticket


class WorkStarted(StatusChanged):
    moves_to = Status.OPEN


class MarkedPending(StatusChanged):
    moves_to = Status.PENDING
    waiting_for: str
    pending_until: datetime

    def apply(self, ticket: Ticket) -> None:
        super().apply(ticket)
        ticket.waiting_for = self.waiting_for
        ticket.pending_until = self.pending_until


class Resumed(StatusChanged):
    moves_to = Status.OPEN


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


class Resolved(StatusChanged):
    moves_to = Status.RESOLVED
    resolution: str

    def apply(self, ticket: Ticket) -> None:
        super().apply(ticket)
        ticket.resolution = self.resolution


class Reopened(StatusChanged):
    moves_to = Status.OPEN

    def apply(self, ticket: Ticket) -> None:
        super().apply(ticket)
        ticket.resolution = None


class Closed(StatusChanged):
    moves_to = Status.CLOSED
