"""A ticket's relations to other tickets (merged, linked, a comment split off into a ticket of its own) and to
the knowledge base article that solved it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.intake.tickets.events.base import StatusChanged, TicketEvent
from services.intake.tickets.vocabulary import LinkKind, Status

if TYPE_CHECKING:
    from services.intake.tickets.domain import Ticket


class MergedInto(StatusChanged):
    moves_to = Status.CLOSED
    target_id: str
    target_number: str

    def apply(self, ticket: Ticket) -> None:
        ticket.merged_into = self.target_id
        super().apply(ticket)


class MergeReceived(TicketEvent):
    source_id: str
    source_number: str
    reason: str

    def apply(self, ticket: Ticket) -> None:
        ticket.merged_from = [*ticket.merged_from, self.source_id]


class Linked(TicketEvent):
    ticket_id: str
    kind: str
    reason: str

    def apply(self, ticket: Ticket) -> None:
        ticket.links = ticket.links | {self.ticket_id: self.kind}


class Unlinked(TicketEvent):
    ticket_id: str
    reason: str

    def apply(self, ticket: Ticket) -> None:
        ticket.links = {k: v for k, v in ticket.links.items() if k != self.ticket_id}


class CommentSplitOff(TicketEvent):
    comment_id: str
    new_ticket_id: str
    reason: str

    def apply(self, ticket: Ticket) -> None:
        ticket.links = ticket.links | {self.new_ticket_id: LinkKind.RELATED.value}


class SolutionLinked(TicketEvent):
    """An agent named the knowledge base article that solved the ticket; a later one replaces it."""

    article_id: str

    def apply(self, ticket: Ticket) -> None:
        ticket.solution = self.article_id
