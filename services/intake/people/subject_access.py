"""A subject access request: everything intake holds about one person, opened, as JSON.

Their profile (what the channels know: address, name, language), every ticket they requested
(with its words, comments and internal notes about them, rating, attachment metadata and where
the desk answers them), and whether and how they were erased. After an erasure the same export
shows what is still held: ids, timings and classifications, the words reading `[erased]`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.intake.people.conversations import Conversations
from services.intake.people.erasure import Erasures
from services.intake.people.finder import People
from services.intake.tickets.application import Intake
from services.intake.tickets.projections import TicketsProjection
from services.intake.tickets.representations import ticket_view
from services.intake.tickets.work import TicketNotFoundError

_NOT_ABOUT_THEM = {"sla", "tenant"}


@dataclass(frozen=True)
class SubjectAccess:
    intake: Intake
    people: People
    conversations: Conversations
    projection: TicketsProjection
    erasures: Erasures

    def export(self, tenant: str, requester_id: str) -> dict[str, Any] | None:
        """The export, or None when the tenant holds nothing about `requester_id`."""
        profile = self.people.profile(tenant, requester_id)
        erasure = self.erasures.state(tenant, requester_id)
        ticket_ids = self.projection.requested_by(tenant, requester_id)
        if profile is None and erasure is None and not ticket_ids and not self.erasures.known(tenant, requester_id):
            return None
        return {
            "requester_id": requester_id,
            "tenant": tenant,
            "exported_at": datetime.now(UTC).isoformat(),
            "erased": self.intake.personal.erased(tenant, requester_id),
            "erasure": erasure,
            "profile": asdict(profile) if profile is not None else None,
            "tickets": [ticket for ticket_id in ticket_ids if (ticket := self._ticket(tenant, ticket_id)) is not None],
        }

    def _ticket(self, tenant: str, ticket_id: str) -> dict[str, Any] | None:
        try:
            ticket = self.intake.get_ticket(UUID(ticket_id), tenant)
        except TicketNotFoundError:
            return None
        view = ticket_view(ticket, self.intake.personal).model_dump(mode="json", exclude=_NOT_ABOUT_THEM)
        routes = self.conversations.routes(tenant, ticket.id)
        return view | {"reply_routes": [asdict(route) for route in routes]}
