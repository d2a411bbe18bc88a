"""The rules service's firings, published on `rules.actions`: a trigger matched an event of a ticket,
and what intake is to do to the ticket because of it."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from schemas.envelope import EventData

# The actor of every ticket event a trigger's actions record (intake acts for the rules service).
RULES_ACTOR = "system:rules"


class TriggerFiredV1(EventData):
    """A trigger fired on one of the ticket's events; intake carries out `actions` in one save on the ticket,
    led by `ticket.trigger_applied`, under this envelope's correlation id (the chain of events it answers)."""

    event_type: ClassVar[str] = "rules.trigger_fired"
    event_version: ClassVar[int] = 1

    ticket_id: str
    firing_id: str = Field(description="Unique per firing: intake applies each once.")
    trigger_id: str
    trigger_version: int = Field(ge=1, description="The trigger's version that matched.")
    trigger_name: str
    event_type_seen: str = Field(description="The event that fired it, e.g. ticket.priority_changed.")
    event_id: str = Field(description="That event's envelope id.")
    reason: str = Field(description="Why in words, e.g. 'priority is P1 and channel is email'.")
    actions: dict[str, Any] = Field(
        description="What to do: status, status_reason, pending_hours, priority, tags_add, tags_remove, "
        "custom_fields, group_id, agent_id, note (an internal note's text, rendered by intake)."
    )
