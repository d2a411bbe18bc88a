"""Routing's application: the desk's setup, its agents, and a decision for every new ticket."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from services.routing.choosing import Presence, TicketFacts, choose_agent, choose_group
from services.routing.domain import Agent, DeskSetup, RoutingError, TicketRouting

ATTEMPTS = 20


class Routing(Application[UUID]):
    name = "routing"

    # -- setup -------------------------------------------------------------------

    def start_desk(self, tenant: str, default_group: str, tier: int = 1) -> None:
        setup = DeskSetup(tenant, default_group)
        setup.define_group(default_group, tier, "least_loaded", None)
        self.save(setup)

    def define_group(self, tenant: str, group_id: str, tier: int, strategy: str, escalates_to: str | None) -> None:
        setup = self.setup(tenant)
        setup.define_group(group_id, tier, strategy, escalates_to)
        self.save(setup)

    def add_rule(self, tenant: str, rule: dict[str, Any]) -> None:
        setup = self.setup(tenant)
        setup.add_rule(rule)
        self.save(setup)

    def register_agent(
        self, tenant: str, agent_id: str, groups: list[str], skills: list[str], tier: int, capacity: int
    ) -> None:
        setup = self.setup(tenant)
        unknown = set(groups) - set(setup.groups)
        if unknown:
            raise RoutingError(f"no group(s) {sorted(unknown)}")
        setup.join(agent_id, groups)
        self.save(setup, Agent(tenant, agent_id, groups, skills, tier, capacity))

    def set_presence(self, tenant: str, agent_id: str, presence: Presence) -> list[TicketRouting]:
        """Record presence; an agent coming online takes waiting tickets of their groups."""
        agent = self.agent(tenant, agent_id)
        agent.set_presence(presence.value)
        self.save(agent)
        return self.drain(tenant, agent.groups) if presence is Presence.ONLINE else []

    # -- deciding ------------------------------------------------------------------

    def route(self, tenant: str, ticket_id: UUID, facts: TicketFacts) -> TicketRouting:
        """Choose the group by the rules and an agent by the group's strategy, or queue the ticket.

        Stored with the agent's new load in one transaction: a concurrent decision on
        the same agent or the same ticket conflicts, and is retried on fresh state.
        """
        for _ in range(ATTEMPTS):
            if (existing := self._routing(ticket_id)) is not None:
                return existing
            setup = self.setup(tenant)
            group = choose_group(setup.rules_in_order(), setup.default_group, facts)
            agents = self._agents(tenant, setup.members.get(group.group_id, []))
            pick = choose_agent(
                setup.strategy_of(group.group_id), [a.state(a.assignments) for a in agents], group.skills
            )
            reason = {
                "rule": group.rule_id, "rules_passed_over": group.passed_over, "skills": sorted(group.skills),
                "agent": pick.reason, "agents_passed_over": pick.passed_over,
            }  # fmt: skip
            routing = TicketRouting(id=ticket_id, tenant=tenant, group_id=group.group_id, agent_id=pick.agent_id,
                                    reason=reason)  # fmt: skip
            changed: list[Any] = [routing]
            if pick.agent_id is None:
                setup.enqueue(group.group_id, str(ticket_id), facts.priority)
                changed.append(setup)
            else:
                chosen = next(a for a in agents if a.agent_id == pick.agent_id)
                chosen.take(str(ticket_id))
                changed.append(chosen)
            try:
                self.save(*changed)
            except IntegrityError:
                continue
            return routing
        raise RuntimeError("could not route: too much contention")

    def release(self, tenant: str, ticket_id: UUID) -> list[TicketRouting]:
        """The ticket is done (resolved, closed, merged): its agent's capacity frees for the queue."""
        routing = self._routing(ticket_id)
        if routing is None or routing.agent_id is None:
            return []
        agent = self.agent(tenant, routing.agent_id)
        agent.release(str(ticket_id))
        self.save(agent)
        return self.drain(tenant, agent.groups)

    def drain(self, tenant: str, groups: list[str]) -> list[TicketRouting]:
        """Give waiting tickets of `groups` to agents who can take them now, best first."""
        assigned = []
        for group_id in groups:
            for waiting in self.setup(tenant).waiting(group_id):
                routed = self._assign_waiting(tenant, group_id, UUID(waiting["ticket_id"]))
                if routed is None:
                    break
                assigned.append(routed)
        return assigned

    def _assign_waiting(self, tenant: str, group_id: str, ticket_id: UUID) -> TicketRouting | None:
        for _ in range(ATTEMPTS):
            setup = self.setup(tenant)
            routing = self._routing(ticket_id)
            if routing is None or routing.agent_id is not None:
                return None
            agents = self._agents(tenant, setup.members.get(group_id, []))
            skills = frozenset(routing.reason.get("skills", []))
            pick = choose_agent(setup.strategy_of(group_id), [a.state(a.assignments) for a in agents], skills)
            if pick.agent_id is None:
                return None
            chosen = next(a for a in agents if a.agent_id == pick.agent_id)
            chosen.take(str(ticket_id))
            routing.choose(pick.agent_id, routing.reason | {"agent": f"from the queue: {pick.reason}",
                                                            "agents_passed_over": pick.passed_over})  # fmt: skip
            setup.dequeue(group_id, str(ticket_id))
            try:
                self.save(setup, chosen, routing)
            except IntegrityError:
                continue
            return routing
        return None

    # -- reading ---------------------------------------------------------------------

    def setup(self, tenant: str) -> DeskSetup:
        try:
            setup: object = self.repository.get(DeskSetup.create_id(tenant))
        except AggregateNotFoundError:
            raise RoutingError(f"routing is not set up for tenant {tenant!r}") from None
        assert isinstance(setup, DeskSetup)
        return setup

    def agent(self, tenant: str, agent_id: str) -> Agent:
        try:
            agent: object = self.repository.get(Agent.create_id(tenant, agent_id))
        except AggregateNotFoundError:
            raise RoutingError(f"no agent {agent_id!r}") from None
        assert isinstance(agent, Agent)
        return agent

    def _agents(self, tenant: str, agent_ids: list[str]) -> list[Agent]:
        return [self.agent(tenant, agent_id) for agent_id in agent_ids]

    def _routing(self, ticket_id: UUID) -> TicketRouting | None:
        try:
            routing: object = self.repository.get(ticket_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(routing, TicketRouting)
        return routing
