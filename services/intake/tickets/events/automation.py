"""What the desk's own automation did to a ticket: a macro applied (later, a trigger fired)."""

from __future__ import annotations

from typing import Any

from services.intake.tickets.events.base import TicketEvent


class MacroApplied(TicketEvent):
    """A macro (`macro_id` at `macro_version`) was applied: the events after it in the same save are its reply
    (`comment_id`, `public`) and its `actions` (what it asked; each change the ticket made records its own)."""

    macro_id: str
    macro_version: int
    language: str
    comment_id: str
    public: bool
    actions: dict[str, Any]
