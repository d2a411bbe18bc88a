"""One unit of routing's work: the aggregates one decision reads and changes, for one tenant.

Each aggregate is loaded once per unit; `Routing.run` records every change of the unit in one transaction.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application

from services.chassis.storage.processing import UnitOfWork
from services.routing.domain import Agent, DeskSetup, Queue, TicketRouting
from services.routing.errors import NotFoundError

# Who or what a decision answers: actor, correlation_id, causation_id (and traceparent),
# carried to the published decision.
Cause = dict[str, str]


class Work(UnitOfWork):
    """One routing decision's aggregates, for one tenant, and the cause it answers."""

    def __init__(self, app: Application[UUID], tenant: str, cause: Cause | None = None) -> None:
        super().__init__(app)
        self.tenant = tenant
        self.cause: Cause = cause or {}

    def setup(self) -> DeskSetup:
        setup = self.get(DeskSetup.create_id(self.tenant), DeskSetup)
        if setup is None:
            raise NotFoundError(f"routing is not set up for tenant {self.tenant!r}: define a group first")
        return setup

    def agent(self, agent_id: str) -> Agent:
        agent = self.get(Agent.create_id(self.tenant, agent_id), Agent)
        if agent is None:
            raise NotFoundError(f"no agent {agent_id!r}", "agent_id")
        return agent

    def agents(self, agent_ids: list[str]) -> list[Agent]:
        """A group's agents as they are now in this unit, to read (change one through `agent`)."""
        found = self.get_many([Agent.create_id(self.tenant, a) for a in agent_ids], Agent)
        if len(found) != len(agent_ids):
            missing = sorted(set(agent_ids) - {a.agent_id for a in found})
            raise NotFoundError(f"no agent(s) {missing}", "agent_id")
        return found

    def queue(self, group_id: str) -> Queue:
        queue = self.get(Queue.create_id(self.tenant, group_id), Queue)
        return queue if queue is not None else self.add(Queue(self.tenant, group_id))

    def routing(self, ticket_id: str) -> TicketRouting | None:
        routing = self.get(UUID(ticket_id), TicketRouting)
        if routing is not None and routing.tenant != self.tenant:
            return None
        return routing
