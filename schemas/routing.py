"""Routing's decisions, published on `routing.decisions`: who handles a ticket, and why."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from schemas.envelope import EventData

# The actor of a ticket event that applies a routing decision; any other actor's
# assignment is a person's, which routing follows and never overrides.
ROUTING_ACTOR = "system:routing"


class DecisionKind(StrEnum):
    ROUTED = "routed"  # a new ticket went to a group and an agent
    QUEUED = "queued"  # a new ticket went to a group; nobody can take it yet
    FROM_QUEUE = "from_queue"  # a waiting ticket got an agent as capacity freed
    REQUEUED = "requeued"  # its agent went offline before starting: back in the queue
    ESCALATED = "escalated"  # moved to the next tier's group


class RoutingDecidedV1(EventData):
    """Routing decided who handles a ticket; `reason` says why in words, the rest in detail."""

    event_type: ClassVar[str] = "routing.decided"
    event_version: ClassVar[int] = 1

    ticket_id: str
    decision_id: str = Field(description="Unique per decision: intake records it with the assignment.")
    kind: DecisionKind
    group_id: str
    agent_id: str | None = Field(description="Null while the ticket waits in the group's queue.")
    tier: int
    rule_id: str | None = Field(description="The routing rule that matched; null for the default group.")
    reason: str
    skills: list[str] = Field(default_factory=list, description="Skills the ticket needs.")
    rules_passed_over: dict[str, str] = Field(default_factory=dict, description="Rule id -> why it did not match.")
    agents_passed_over: dict[str, str] = Field(default_factory=dict, description="Agent id -> why not chosen.")
    overrides_manual: bool = Field(
        False, description="True only for an escalation a person asked for: it replaces a manual assignment."
    )
