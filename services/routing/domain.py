"""What routing knows and decides, as event-sourced aggregates. Pure: no I/O here.

- `DeskSetup` (one per tenant): groups with tier, strategy and escalation policy, the
  default group, who belongs to which group, and the ordered routing rules. Rules are
  added, changed, reordered and retired as events, so replaying the setup to an
  instant gives the rules in force then.
- `Queue` (one per group): tickets no agent could take yet, best first.
- `Agent`: skills, tier, capacity, presence and the tickets held. Capacity is enforced
  here, where the decision is stored: two routers that pick the same agent conflict
  on the agent's version, and the loser decides again on fresh state.
- `TicketRouting` (id = the ticket's id): every decision about one ticket, with its
  reason. Created once, so two routers can never route the same ticket twice.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.domain.ordered_rules import OrderedRules
from services.chassis.runtime.errors import CommandRefusedError, UnknownThingError
from services.chassis.storage.ids import stable_uuid
from services.routing.choosing import AgentState, Presence, Rule, Strategy

ESCALATION_TRIGGERS = ("warning", "breach")
RULES = OrderedRules("rule_id")


class RoutingError(CommandRefusedError):
    """A command routing refuses; `field` names what is wrong."""


class NotFoundError(RoutingError, UnknownThingError):
    """No such setup, group, rule, agent or ticket for this tenant."""


class DeskSetup(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("routing", "setup", tenant)

    @event("Started")
    def __init__(self, tenant: str, default_group: str) -> None:
        self.tenant = tenant
        self.default_group = default_group
        self.groups: dict[str, dict[str, Any]] = {}
        self.rules: list[dict[str, Any]] = []
        self.members: dict[str, list[str]] = {}

    # -- groups ------------------------------------------------------------------

    def define_group(
        self, group_id: str, tier: int, strategy: Strategy, escalates_to: str | None, escalate_on: list[str]
    ) -> None:
        if escalates_to is not None:
            if escalates_to == group_id:
                raise RoutingError("a group cannot escalate to itself", "escalates_to")
            if escalates_to not in self.groups:
                raise RoutingError(f"no group {escalates_to!r} to escalate to", "escalates_to")
            if self.groups[escalates_to]["tier"] <= tier:
                raise RoutingError("escalation goes to a higher tier", "escalates_to")
        if escalate_on and escalates_to is None:
            raise RoutingError("escalating on SLA events needs a group to escalate to", "escalate_on")
        spec = {
            "tier": tier,
            "strategy": strategy.value,
            "escalates_to": escalates_to,
            "escalate_on": sorted(set(escalate_on)),
        }
        if self.groups.get(group_id) != spec:
            self._group_defined(group_id=group_id, spec=spec)

    @event("GroupDefined")
    def _group_defined(self, group_id: str, spec: dict[str, Any]) -> None:
        self.groups = self.groups | {group_id: spec}

    def make_default(self, group_id: str) -> None:
        self.group(group_id)
        if group_id != self.default_group:
            self._default_changed(group_id=group_id)

    @event("DefaultGroupChanged")
    def _default_changed(self, group_id: str) -> None:
        self.default_group = group_id

    def group(self, group_id: str) -> dict[str, Any]:
        try:
            return self.groups[group_id]
        except KeyError:
            raise NotFoundError(f"no group {group_id!r}", "group_id") from None

    def strategy_of(self, group_id: str) -> Strategy:
        return Strategy(self.group(group_id)["strategy"])

    def tier_of(self, group_id: str) -> int:
        tier: int = self.group(group_id)["tier"]
        return tier

    def set_membership(self, agent_id: str, groups: list[str]) -> None:
        for group_id in groups:
            self.group(group_id)
        current = sorted(g for g, agents in self.members.items() if agent_id in agents)
        if current != sorted(set(groups)):
            self._membership_set(agent_id=agent_id, groups=sorted(set(groups)))

    @event("MembershipSet")
    def _membership_set(self, agent_id: str, groups: list[str]) -> None:
        members = {g: [a for a in agents if a != agent_id] for g, agents in self.members.items()}
        for group_id in groups:
            members[group_id] = sorted({*members.get(group_id, []), agent_id})
        self.members = members

    # -- rules -------------------------------------------------------------------

    def add_rule(self, rule: dict[str, Any]) -> None:
        self.group(rule["group_id"])
        if RULES.find(self.rules, rule["rule_id"]) is not None:
            raise RoutingError(f"rule {rule['rule_id']!r} exists; change it instead", "rule_id")
        self._rule_added(rule=rule)

    @event("RuleAdded")
    def _rule_added(self, rule: dict[str, Any]) -> None:
        self.rules = RULES.added(self.rules, rule)

    def change_rule(self, rule: dict[str, Any]) -> None:
        self.group(rule["group_id"])
        if self.rule(rule["rule_id"]) != rule:
            self._rule_changed(rule=rule)

    @event("RuleChanged")
    def _rule_changed(self, rule: dict[str, Any]) -> None:
        self.rules = RULES.changed(self.rules, rule)

    def retire_rule(self, rule_id: str) -> None:
        self.rule(rule_id)
        self._rule_retired(rule_id=rule_id)

    @event("RuleRetired")
    def _rule_retired(self, rule_id: str) -> None:
        self.rules = RULES.retired(self.rules, rule_id)

    def reorder_rules(self, rule_ids: list[str]) -> None:
        if not RULES.names_each_once(self.rules, rule_ids):
            raise RoutingError("a new order must name every rule exactly once", "rule_ids")
        if RULES.moves(self.rules, rule_ids):
            self._rules_reordered(rule_ids=rule_ids)

    @event("RulesReordered")
    def _rules_reordered(self, rule_ids: list[str]) -> None:
        self.rules = RULES.reordered(self.rules, rule_ids)

    def rule(self, rule_id: str) -> dict[str, Any]:
        if (rule := RULES.find(self.rules, rule_id)) is not None:
            return rule
        raise NotFoundError(f"no rule {rule_id!r}", "rule_id")

    def rules_in_order(self) -> list[Rule]:
        return [_rule(r) for r in self.rules]


def _rule(spec: dict[str, Any]) -> Rule:
    sets = {key: frozenset(value) for key, value in spec.items() if isinstance(value, list)}
    return Rule(rule_id=spec["rule_id"], group_id=spec["group_id"], **sets)


PRIORITY_ORDER = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}


class Queue(Aggregate):
    """One group's waiting tickets: highest priority first (P1 before P4), then the longest open
    (by when the ticket was opened, not by when routing heard of it: tickets reach routing over
    several partitions, in no global order)."""

    @staticmethod
    def create_id(tenant: str, group_id: str) -> UUID:
        return stable_uuid("routing", "queue", tenant, group_id)

    @event("Created")
    def __init__(self, tenant: str, group_id: str) -> None:
        self.tenant = tenant
        self.group_id = group_id
        self.waiting_tickets: dict[str, dict[str, Any]] = {}
        self.arrivals = 0

    def add(self, ticket_id: str, priority: str, opened_at: str) -> None:
        if ticket_id not in self.waiting_tickets:
            self._queued(ticket_id=ticket_id, priority=priority, opened_at=opened_at)

    @event("TicketQueued")
    def _queued(self, ticket_id: str, priority: str, opened_at: str = "") -> None:
        self.arrivals += 1
        waiting = {"priority": priority, "opened_at": opened_at, "seq": self.arrivals}
        self.waiting_tickets = self.waiting_tickets | {ticket_id: waiting}

    def remove(self, ticket_id: str) -> None:
        if ticket_id in self.waiting_tickets:
            self._left(ticket_id=ticket_id)

    @event("TicketLeft")
    def _left(self, ticket_id: str) -> None:
        self.waiting_tickets = {t: w for t, w in self.waiting_tickets.items() if t != ticket_id}

    def reprioritise(self, ticket_id: str, priority: str) -> None:
        if ticket_id in self.waiting_tickets and self.waiting_tickets[ticket_id]["priority"] != priority:
            self._reprioritised(ticket_id=ticket_id, priority=priority)

    @event("TicketReprioritised")
    def _reprioritised(self, ticket_id: str, priority: str) -> None:
        waiting = self.waiting_tickets[ticket_id] | {"priority": priority}
        self.waiting_tickets = self.waiting_tickets | {ticket_id: waiting}

    def in_order(self) -> list[str]:
        """Ticket ids, best first."""
        return sorted(
            self.waiting_tickets,
            key=lambda t: (
                PRIORITY_ORDER.get(self.waiting_tickets[t]["priority"], 9),
                self.waiting_tickets[t].get("opened_at", ""),
                self.waiting_tickets[t]["seq"],
            ),
        )


class Agent(Aggregate):
    @staticmethod
    def create_id(tenant: str, agent_id: str) -> UUID:
        return stable_uuid("routing", "agent", tenant, agent_id)

    @event("Registered")
    def __init__(
        self, tenant: str, agent_id: str, groups: list[str], skills: list[str], tier: int, capacity: int
    ) -> None:
        self.tenant = tenant
        self.agent_id = agent_id
        self.groups = sorted(groups)
        self.skills = sorted(skills)
        self.tier = tier
        self.capacity = capacity
        self.presence = Presence.OFFLINE.value
        self.tickets: list[str] = []
        self.assignments = 0

    def update(self, groups: list[str], skills: list[str], tier: int, capacity: int) -> None:
        if (sorted(groups), sorted(skills), tier, capacity) != (self.groups, self.skills, self.tier, self.capacity):
            self._updated(groups=sorted(groups), skills=sorted(skills), tier=tier, capacity=capacity)

    @event("Updated")
    def _updated(self, groups: list[str], skills: list[str], tier: int, capacity: int) -> None:
        self.groups, self.skills, self.tier, self.capacity = groups, skills, tier, capacity

    def set_presence(self, presence: Presence) -> None:
        if presence.value != self.presence:
            self._presence_changed(presence=presence.value)

    @event("PresenceChanged")
    def _presence_changed(self, presence: str) -> None:
        self.presence = presence

    def take(self, ticket_id: str, by_person: bool = False) -> None:
        """Hold `ticket_id`. Routing never goes above capacity; a person's assignment may."""
        if ticket_id in self.tickets:
            return
        if not by_person:
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

    def state(self) -> AgentState:
        """As `choosing` sees the agent; fewer assignments so far means longer since the last."""
        return AgentState(
            self.agent_id,
            frozenset(self.skills),
            self.capacity,
            Presence(self.presence),
            len(self.tickets),
            self.assignments,
        )


class TicketRouting(Aggregate):
    """The routing of one ticket: every decision with its reason, and what routing must know
    of the ticket's life (started, done, assigned by a person)."""

    class Event(Aggregate.Event):
        tenant: str

    class Decided(Event):
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

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        super().trigger_event(event_class, tenant=self.tenant, **kwargs)

    @event("Started")
    def __init__(self, id: UUID, tenant: str, priority: str, opened_at: str = "") -> None:
        self.tenant = tenant
        self.priority = priority
        self.opened_at = opened_at
        self.group_id: str | None = None
        self.agent_id: str | None = None
        self.skills: list[str] = []
        self.work_started = False
        self.done = False
        self.by_person = False
        self.decisions = 0

    @event(Decided)
    def decide(
        self,
        kind: str,
        group_id: str,
        agent_id: str | None,
        tier: int,
        rule_id: str | None,
        reason: str,
        skills: list[str],
        rules_passed_over: dict[str, str],
        agents_passed_over: dict[str, str],
        overrides_manual: bool,
        cause: dict[str, str],
    ) -> None:
        """`cause`: the actor, correlation and causation ids the published decision carries."""
        self.group_id = group_id
        self.agent_id = agent_id
        self.skills = skills
        self.decisions += 1
        self.by_person = self.by_person and not overrides_manual

    @event("AssignedByPerson")
    def assigned_by_person(self, group_id: str | None, agent_id: str | None) -> None:
        self.group_id = group_id
        self.agent_id = agent_id
        self.by_person = True

    def start_work(self) -> None:
        if not self.work_started:
            self._work_started()

    @event("WorkStarted")
    def _work_started(self) -> None:
        self.work_started = True

    def finish(self, why: str) -> None:
        if not self.done:
            self._finished(why=why)

    @event("Finished")
    def _finished(self, why: str) -> None:
        self.done = True

    @event("Reopened")
    def reopen(self) -> None:
        self.done = False
        self.work_started = False

    def reprioritise(self, priority: str) -> None:
        if priority != self.priority:
            self._reprioritised(priority=priority)

    @event("Reprioritised")
    def _reprioritised(self, priority: str) -> None:
        self.priority = priority
