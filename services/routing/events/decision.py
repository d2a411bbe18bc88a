"""What every event of a ticket's routing carries, and `Decided`: a decision, as `routing.decided` publishes it.

`TicketRouting` (domain.py) names `Decided` (`Decided = decision.Decided`), where eventsourcing
makes it the class it stores, so it keeps its topic `services.routing.domain:TicketRouting.Decided`.
A published event is never changed in place: a new field is a new `class_version` with an upcaster.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate


class TicketRoutingEvent(Aggregate.Event):
    """Every event of a ticket's routing: for whom."""

    tenant: str


class Decided(TicketRoutingEvent):
    """A decision, as `routing.decided` publishes it."""

    kind: str
    group_id: str
    agent_id: str | None
    tier: int
    rule_id: str | None
    reason: str
    skills: list[str]
    rules_passed_over: dict[str, str]
    agents_passed_over: dict[str, str]
    overrides_manual: bool
    cause: dict[str, str]
