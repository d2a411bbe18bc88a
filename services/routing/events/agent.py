"""What an agent records: their skills, tier and capacity changed, presence, tickets taken and released.

`Agent` (domain.py) names each class here (`TicketTaken = agent.TicketTaken`...), where eventsourcing
makes it the class it stores, so each keeps its topic `services.routing.domain:Agent.<Event>`. Each
applies itself to the agent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from services.chassis.domain.admin_changes import AdminChange

if TYPE_CHECKING:
    from services.routing.domain import Agent


class Updated(AdminChange):
    """The admin changed the agent's groups, skills, tier or capacity."""

    groups: list[str]
    skills: list[str]
    tier: int
    capacity: int

    def apply(self, agent: Agent) -> None:
        agent.groups, agent.skills, agent.tier, agent.capacity = self.groups, self.skills, self.tier, self.capacity


class PresenceChanged(Aggregate.Event):
    presence: str

    def apply(self, agent: Agent) -> None:
        agent.presence = self.presence


class TicketTaken(Aggregate.Event):
    ticket_id: str

    def apply(self, agent: Agent) -> None:
        agent.tickets = [*agent.tickets, self.ticket_id]
        agent.assignments += 1


class TicketReleased(Aggregate.Event):
    ticket_id: str

    def apply(self, agent: Agent) -> None:
        agent.tickets = [t for t in agent.tickets if t != self.ticket_id]
