"""Reading tickets back: as they are, as they were at an instant, their history and their words opened
for the reader (sealed words are unsealed here, never in an adapter)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from services.chassis.storage.processing import as_of, find
from services.intake.audit.auditor import Audit, Verification
from services.intake.privacy.personal_data import PersonalData
from services.intake.tickets.domain import Ticket
from services.intake.tickets.representations import (
    AttachmentView,
    CommentView,
    HistoryEntry,
    TicketView,
    history_entry,
    ticket_view,
)
from services.intake.tickets.work import TicketNotFoundError


class TicketReading(Application[UUID]):
    """What the application (application.py) answers about its tickets."""

    personal: PersonalData
    audit: Audit

    def get_ticket(self, ticket_id: UUID, tenant: str) -> Ticket:
        ticket = find(self, ticket_id, Ticket)
        if ticket is None or ticket.tenant != tenant:
            raise TicketNotFoundError(ticket_id)
        return ticket

    def ticket_as_of(self, ticket_id: UUID, tenant: str, instant: datetime) -> Ticket:
        """The ticket exactly as it was at `instant`: the latest snapshot before it, then events."""
        self._check_tenant(ticket_id, tenant)
        ticket = as_of(self, ticket_id, instant, self.snapshots)
        if not isinstance(ticket, Ticket):
            raise TicketNotFoundError(ticket_id)
        return ticket

    def history(self, ticket_id: UUID, tenant: str) -> Iterator[Ticket.Event]:
        self._check_tenant(ticket_id, tenant)
        for domain_event in self.events.get(ticket_id):
            assert isinstance(domain_event, Ticket.Event)
            yield domain_event

    def view(self, ticket: Ticket, *, public_only: bool = False) -> TicketView:
        """The ticket as its reader sees it, its sealed words opened (`[erased]` once the requester was erased);
        for a customer (`public_only`) without the internal notes and the files attached to them."""
        view = ticket_view(ticket, self.personal)
        if public_only:
            internal = {c.id for c in view.comments if not c.public}
            return view.model_copy(
                update={
                    "comments": [c for c in view.comments if c.public],
                    "attachments": [a for a in view.attachments if a.comment_id not in internal],
                }
            )
        return view

    def view_as_of(self, ticket_id: UUID, tenant: str, instant: datetime, *, public_only: bool = False) -> TicketView:
        return self.view(self.ticket_as_of(ticket_id, tenant, instant), public_only=public_only)

    def attachments_of(self, ticket: Ticket, files: dict[str, dict[str, Any]] | None = None) -> list[AttachmentView]:
        """The ticket's attachments (or those of them in `files`), their filenames opened."""
        opened = self.personal.opened(ticket.tenant, ticket.attachments if files is None else files)
        return [AttachmentView(id=key, **value) for key, value in opened.items()]

    def story(self, ticket_id: UUID, tenant: str) -> list[HistoryEntry]:
        """Every event of the ticket in its own words, sealed words opened."""
        return [history_entry(event, self.personal) for event in self.history(ticket_id, tenant)]

    def public_comments_after(
        self, ticket_id: UUID, tenant: str, after: str | None, not_by: str
    ) -> tuple[list[CommentView], str | None]:
        """The public comments (opened) since comment `after` (all when None) by anyone but `not_by`, and the
        ticket's newest comment; TicketNotFoundError for another tenant's."""
        ticket = self.get_ticket(ticket_id, tenant)
        ids = list(ticket.comments)
        start = ids.index(after) + 1 if after in ticket.comments else 0
        found = []
        for comment_id in ids[start:]:
            comment = ticket.comments[comment_id]
            if comment["public"] and comment["author_id"] != not_by:
                found.append(
                    CommentView(id=comment_id, **comment | {"body": self.personal.unseal(tenant, comment["body"])})
                )
        return found, ids[-1] if ids else after

    def story_after(self, ticket: Ticket, version: int) -> list[HistoryEntry]:
        """The ticket's events after `version`, up to the version it is at, each in its own words."""
        events = self.events.get(ticket.id, gt=version, lte=ticket.version)
        return [history_entry(event, self.personal) for event in events if isinstance(event, Ticket.Event)]

    def verify(self, ticket_id: UUID | None = None, tenant: str | None = None) -> Verification:
        """Check one ticket's history, or every stream's in the store (of `tenant`, when given),
        against the seals and the newest checkpoints; name every stream's first problem."""
        if ticket_id is not None and tenant is not None:
            self._check_tenant(ticket_id, tenant)
        return self.audit.verify(ticket_id, tenant)

    def _check_tenant(self, ticket_id: UUID, tenant: str) -> None:
        """Whether the ticket is the tenant's, without copying it out of the cache."""
        try:
            ticket: object = self.repository.get(ticket_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            raise TicketNotFoundError(ticket_id) from None
        if not isinstance(ticket, Ticket) or ticket.tenant != tenant:
            raise TicketNotFoundError(ticket_id)
