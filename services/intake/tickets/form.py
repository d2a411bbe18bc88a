"""What a ticket is opened with, defined once: the requester's form, and what the desk adds to it.

`Ticket.open_from` spreads these fields into its `Opened` event, whose attributes bear the same
names; the HTTP body (`OpenTicket`, services/intake/http/tickets.py) validates what a caller
sends and becomes one of these. A new field is added here (and, sent over HTTP, validated there);
the event then takes it in a new version with an upcaster, as events change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TicketForm:
    """What a requester fills in to open a ticket (already validated at the edge), and what the
    desk adds when it opens one: the ticket it follows up or was split from, and the keyed digests
    of its words (its title and description are sealed by then)."""

    title: str
    description: str
    requester_id: str
    channel: str
    category: str
    type: str
    priority: str
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    organisation: str | None = None
    group_id: str | None = None  # the channel's default group (routing places it there when no rule matches)
    follow_up_of: str | None = None
    split_from: str | None = None
    keyword_digests: list[str] | None = None
    language: str | None = None  # ISO 639-1 (`spoken` reads a channel's tag)
    custom_field_kinds: dict[str, str] | None = None  # each custom field's kind, when checked
    imported_from: dict[str, str] | None = None  # the desk it was imported from: system, url, id (importing.py)
    sla_policy_id: str | None = None  # its organisation's own SLA policy and calendar when it opened (opening.py)
    sla_calendar_id: str | None = None


def spoken(tag: str | None) -> str | None:
    """The language of a channel's language tag (`ru-RU`, `en_GB`, `RU`) as two lower-case letters, or None."""
    code = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return code if len(code) == 2 and code.isascii() and code.isalpha() else None
