"""How a ticket and its history read over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from services.intake.audit import chain
from services.intake.privacy.personal_data import PersonalData
from services.intake.tickets.domain import Ticket
from services.intake.tickets.events.base import event_name

_META = {"originator_id", "originator_version", "timestamp", "originator_topic", "tenant", "actor", "metadata"}


class CommentView(BaseModel):
    id: str
    body: str
    public: bool
    author_id: str
    channel: str
    author_kind: str | None = Field(
        None, description="staff, requester or other; null for a comment recorded before it was told."
    )


class AttachmentView(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    comment_id: str | None


class TicketView(BaseModel):
    id: UUID
    number: str
    tenant: str
    status: str
    status_reason: str
    title: str
    description: str
    requester_id: str
    organisation: str | None = None
    channel: str
    category: str
    type: str
    priority: str
    tags: list[str]
    custom_fields: dict[str, Any]
    group_id: str | None
    agent_id: str | None
    assignment_decision: str | None = Field(
        None, description="The routing decision behind the assignment; null when a person assigned it."
    )
    pending_until: datetime | None
    waiting_for: str | None
    resolution: str | None
    rating: dict[str, Any] | None = Field(None, description="The requester's CSAT score (1-5) and comment.")
    links: dict[str, str] = Field(description="Linked ticket id -> kind of link.")
    merged_into: str | None
    solution: str | None = Field(None, description="The knowledge base article an agent linked as the solution.")
    merged_from: list[str]
    follow_up_of: str | None
    split_from: str | None
    imported_from: dict[str, str] | None = Field(
        None,
        description="The desk it was imported from with its history (system, url, and its id there; its external"
        " reference `<system>:<id>` is also one of its tags), or null.",
    )
    comments: list[CommentView]
    attachments: list[AttachmentView]
    sla: dict[str, Any] | None = Field(
        None,
        description="On GET: per SLA metric (first_response, next_response, resolution) its state, target, due"
        " instant and business time used, as the SLA service last published them; `{}` when no policy applies.",
    )
    version: int = Field(description="Also the ETag: send it back as If-Match to change the ticket.")
    created_at: datetime
    updated_at: datetime


def ticket_view(ticket: Ticket, personal: PersonalData) -> TicketView:
    """The ticket with its sealed words opened (`[erased]` once the requester was erased)."""
    state = vars(ticket)
    special = {"id", "comments", "attachments", "version", "created_at", "updated_at"}
    simple = {name: state[name] for name in TicketView.model_fields.keys() - special if name in state}
    simple = personal.opened(ticket.tenant, simple)
    comments = personal.opened(ticket.tenant, ticket.comments)
    attachments = personal.opened(ticket.tenant, ticket.attachments)
    return TicketView(
        **simple,
        id=ticket.id,
        comments=[CommentView(id=key, **value) for key, value in comments.items()],
        attachments=[AttachmentView(id=key, **value) for key, value in attachments.items()],
        version=ticket.version,
        created_at=ticket.created_on,
        updated_at=ticket.modified_on,
    )


class HistoryEntry(BaseModel):
    version: int
    event: str = Field(examples=["resolved"])
    at: datetime
    actor: str
    reason: str | None
    changes: dict[str, Any] = Field(description="What the event set, in its own words.")
    correlation_id: str | None
    hash: str
    previous_hash: str | None


def history_entry(event: Ticket.Event, personal: PersonalData) -> HistoryEntry:
    """One event in its own words, sealed words opened; the hashes are of the sealed event."""
    state = vars(event)
    changes = {key: value for key, value in state.items() if key not in _META | {chain.HASH, chain.SEAL, "reason"}}
    reason = state.get("reason")
    return HistoryEntry(
        version=event.originator_version,
        event=event_name(event),
        at=event.timestamp,
        actor=event.actor,
        reason=personal.unseal(event.tenant, reason) if isinstance(reason, str) else reason,
        changes=personal.opened(event.tenant, changes),
        correlation_id=event.metadata.get("correlation_id"),
        hash=state[chain.HASH],
        previous_hash=event.metadata.get(chain.PREVIOUS),
    )
