"""What the desk's own automation did to a ticket: a macro applied, a trigger's firing applied."""

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


class TriggerApplied(TicketEvent):
    """A trigger's firing (`firing_id`: the rules service's `rules.trigger_fired`) was applied: the events after
    it in the same save are its internal note and its actions' own events. `reason` says why it fired."""

    trigger_id: str
    trigger_version: int
    firing_id: str
    reason: str
    actions: dict[str, Any]

    def apply(self, ticket: Any) -> None:
        """Remember the firing (the latest ones: a redelivered firing is applied once)."""
        ticket.firings_applied = [*getattr(ticket, "firings_applied", []), self.firing_id][-FIRINGS_KEPT:]


class TriggerRefused(TicketEvent):
    """A trigger's firing was refused and changed nothing else (`refusal` says why; `for_good`: the trigger is at
    fault, not this ticket's state). Remembered as applied: a redelivery is refused no second time."""

    trigger_id: str
    trigger_version: int
    firing_id: str
    refusal: str
    for_good: bool

    def apply(self, ticket: Any) -> None:
        ticket.firings_applied = [*getattr(ticket, "firings_applied", []), self.firing_id][-FIRINGS_KEPT:]


FIRINGS_KEPT = 200
