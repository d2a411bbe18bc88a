"""What routing knows and decides, as event-sourced aggregates. Pure: no I/O here.

- `DeskSetup` (one per tenant): groups with tier and strategy, the default group, and
  the ordered routing rules; replaying it to an instant gives the rules then in force.
- `Agent`: groups, skills, tier, capacity, presence and current load. Capacity is
  enforced here, where the decision is stored: two routers that both pick an agent
  conflict on the agent's version, and one of them retries.
- `TicketRouting` (id = the ticket's id): the decisions about one ticket. Created once,
  so two routers can never assign the same ticket twice.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.routing.choosing import AgentState, Presence, Rule, Strategy


class RoutingError(Exception):
    """A command routing refuses."""


class DeskSetup(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/servicedesk/routing/setup/{tenant}")

    @event("Started")
    def __init__(self, tenant: str, default_group: str) -> None:
        self.tenant = tenant
        self.default_group = default_group
        self.groups: dict[str, dict[str, Any]] = {}
        self.rules: list[dict[str, Any]] = []
        self.members: dict[str, list[str]] = {}
        self.queues: dict[str, list[dict[str, Any]]] = {}
        self.queued = 0

    @event("GroupDefined")
    def define_group(self, group_id: str, tier: int, strategy: str, escalates_to: str | None) -> None:
        self.groups = self.groups | {group_id: {"tier": tier, "strategy": strategy, "escalates_to": escalates_to}}

    @event("AgentJoined")
    def join(self, agent_id: str, groups: list[str]) -> None:
        self.members = self.members | {g: sorted({*self.members.get(g, []), agent_id}) for g in groups}

    @event("TicketQueued")
    def enqueue(self, group_id: str, ticket_id: str, priority: str) -> None:
        self.queued += 1
        waiting = {"ticket_id": ticket_id, "priority": priority, "seq": self.queued}
        self.queues = self.queues | {group_id: [*self.queues.get(group_id, []), waiting]}

    @event("TicketDequeued")
    def dequeue(self, group_id: str, ticket_id: str) -> None:
        self.queues = self.queues | {
            group_id: [w for w in self.queues.get(group_id, []) if w["ticket_id"] != ticket_id]
        }

    def waiting(self, group_id: str) -> list[dict[str, Any]]:
        """The group's queue: highest priority first (P1 before P4), then oldest."""
        return sorted(self.queues.get(group_id, []), key=lambda w: (w["priority"], w["seq"]))

    def add_rule(self, rule: dict[str, Any]) -> None:
        if rule["group_id"] not in self.groups:
            raise RoutingError(f"no group {rule['group_id']!r}")
        if any(r["rule_id"] == rule["rule_id"] for r in self.rules):
            raise RoutingError(f"rule {rule['rule_id']!r} exists; change it instead")
        self._rule_added(rule=rule)

    @event("RuleAdded")
    def _rule_added(self, rule: dict[str, Any]) -> None:
        self.rules = [*self.rules, rule]

    def retire_rule(self, rule_id: str) -> None:
        if all(r["rule_id"] != rule_id for r in self.rules):
            raise RoutingError(f"no rule {rule_id!r}")
        self._rule_retired(rule_id=rule_id)

    @event("RuleRetired")
    def _rule_retired(self, rule_id: str) -> None:
        self.rules = [r for r in self.rules if r["rule_id"] != rule_id]

    def reorder_rules(self, rule_ids: list[str]) -> None:
        if sorted(rule_ids) != sorted(r["rule_id"] for r in self.rules):
            raise RoutingError("a new order must name every rule exactly once")
        self._rules_reordered(rule_ids=rule_ids)

    @event("RulesReordered")
    def _rules_reordered(self, rule_ids: list[str]) -> None:
        by_id = {r["rule_id"]: r for r in self.rules}
        self.rules = [by_id[rule_id] for rule_id in rule_ids]

    def rules_in_order(self) -> list[Rule]:
        return [_rule(r) for r in self.rules]

    def strategy_of(self, group_id: str) -> Strategy:
        return Strategy(self.groups.get(group_id, {}).get("strategy", Strategy.LEAST_LOADED.value))


def _rule(spec: dict[str, Any]) -> Rule:
    sets = {key: frozenset(value) for key, value in spec.items() if isinstance(value, list)}
    return Rule(rule_id=spec["rule_id"], group_id=spec["group_id"], **sets)


class Agent(Aggregate):
    @staticmethod
    def create_id(tenant: str, agent_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/servicedesk/routing/agent/{tenant}/{agent_id}")

    @event("Registered")
    def __init__(
        self, tenant: str, agent_id: str, groups: list[str], skills: list[str], tier: int, capacity: int
    ) -> None:
        self.tenant = tenant
        self.agent_id = agent_id
        self.groups = list(groups)
        self.skills = list(skills)
        self.tier = tier
        self.capacity = capacity
        self.presence = Presence.OFFLINE.value
        self.tickets: list[str] = []
        self.assignments = 0

    @event("PresenceChanged")
    def set_presence(self, presence: str) -> None:
        self.presence = presence

    @event("CapacityChanged")
    def set_capacity(self, capacity: int) -> None:
        self.capacity = capacity

    def take(self, ticket_id: str) -> None:
        if self.presence != Presence.ONLINE:
            raise RoutingError(f"{self.agent_id} is {self.presence}")
        if len(self.tickets) >= self.capacity:
            raise RoutingError(f"{self.agent_id} is at capacity")
        self._ticket_taken(ticket_id=ticket_id)

    @event("TicketTaken")
    def _ticket_taken(self, ticket_id: str) -> None:
        self.tickets = [*self.tickets, ticket_id]
        self.assignments += 1

    def release(self, ticket_id: str) -> None:
        if ticket_id in self.tickets:
            self._ticket_released(ticket_id=ticket_id)

    @event("TicketReleased")
    def _ticket_released(self, ticket_id: str) -> None:
        self.tickets = [t for t in self.tickets if t != ticket_id]

    def state(self, clock: int) -> AgentState:
        """As `choosing` sees the agent; `clock` orders agents by their last assignment."""
        return AgentState(
            self.agent_id, frozenset(self.skills), self.capacity, Presence(self.presence), len(self.tickets), clock
        )


class TicketRouting(Aggregate):
    """The routing decisions about one ticket, each with its reason."""

    @event("Routed")
    def __init__(self, id: UUID, tenant: str, group_id: str, agent_id: str | None, reason: dict[str, Any]) -> None:
        self.tenant = tenant
        self.group_id = group_id
        self.agent_id = agent_id
        self.reason = reason

    @event("AgentChosen")
    def choose(self, agent_id: str, reason: dict[str, Any]) -> None:
        self.agent_id = agent_id
        self.reason = reason
