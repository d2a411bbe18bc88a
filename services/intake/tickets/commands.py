"""What a command that runs several of the ticket's own commands at once carries (application.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.intake.tickets.domain import Ticket


@dataclass(frozen=True)
class Reclassification:
    """Priority, category, type, tags and custom fields changed together: one transaction, one event each
    for what differs. `custom_fields` are checked against the tenant's fields by the application."""

    reason: str
    priority: str | None = None
    category: str | None = None
    type: str | None = None
    tags_add: list[str] = field(default_factory=list)
    tags_remove: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    custom_fields_unset: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChannelMessage:
    """A message a channel brings to the ticket of its thread: a public comment, named by the message (so it
    is added once), with its files (attachment_id, sha256, filename, content_type, size)."""

    comment_id: str
    text: str
    channel: str
    staff: bool  # written by an address the tenant lists as its staff's: it answers the requester
    from_requester: bool  # the requester wrote: a resolved ticket reopens
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class TimeEntry:
    """Time an agent worked on a ticket, logged alone or with a reply. `billable` None: the activity type's
    default; `corrects`: the entry this one replaces (never edited in place)."""

    entry_id: str
    minutes: int
    activity: str
    worked_on: date
    note: str = ""
    billable: bool | None = None
    corrects: str | None = None


def reclassified(
    ticket: Ticket, change: Reclassification, custom_fields: dict[str, Any], kinds: dict[str, str]
) -> None:
    """Run each change the reclassification carries on the ticket (`custom_fields` already checked, of `kinds`)."""
    if change.priority is not None:
        ticket.change_priority(change.priority, change.reason)
    if change.category is not None:
        ticket.recategorize(change.category, change.reason)
    if change.type is not None:
        ticket.retype(change.type, change.reason)
    if change.tags_add or change.tags_remove:
        ticket.retag(change.tags_add, change.tags_remove, change.reason)
    if custom_fields or change.custom_fields_unset:
        ticket.change_custom_fields(custom_fields, change.custom_fields_unset, change.reason, kinds)
