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

from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.domain.copy_on_write import CopyOnWrite
from services.chassis.storage.ids import stable_uuid
from services.routing.choosing import AgentState, Presence, Rule, Strategy, waiting_order
from services.routing.desk_specs import RULES, group_spec, rule_of
from services.routing.errors import NotFoundError, RoutingError
from services.routing.events import agent, decision, desk_setup, queue

IDS_CACHED = 4096  # a decision derives its setup's, queue's and every agent's of the group: a hash each


class DeskSetup(Aggregate):
    GroupDefined = desk_setup.GroupDefined
    DefaultGroupChanged = desk_setup.DefaultGroupChanged
    MembershipSet = desk_setup.MembershipSet
    RuleAdded = desk_setup.RuleAdded
    RuleChanged = desk_setup.RuleChanged
    RuleRetired = desk_setup.RuleRetired
    RulesReordered = desk_setup.RulesReordered

    @staticmethod
    @lru_cache(maxsize=IDS_CACHED)
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

    # `by`: the admin who makes the change (their token's subject).

    def define_group(
        self,
        group_id: str,
        tier: int,
        strategy: Strategy,
        escalates_to: str | None,
        escalate_on: list[str],
        by: str = "",
    ) -> None:
        spec = group_spec(self.groups, group_id, tier, strategy, escalates_to, escalate_on)
        if self.groups.get(group_id) != spec:
            self.trigger_event(self.GroupDefined, group_id=group_id, spec=spec, by=by)

    def make_default(self, group_id: str, by: str = "") -> None:
        self.group(group_id)
        if group_id != self.default_group:
            self.trigger_event(self.DefaultGroupChanged, group_id=group_id, by=by)

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

    def set_membership(self, agent_id: str, groups: list[str], by: str = "") -> None:
        for group_id in groups:
            self.group(group_id)
        current = sorted(g for g, agents in self.members.items() if agent_id in agents)
        if current != sorted(set(groups)):
            self.trigger_event(self.MembershipSet, agent_id=agent_id, groups=sorted(set(groups)), by=by)

    # -- rules -------------------------------------------------------------------

    # `by`: the admin who makes the change (their token's subject).

    def add_rule(self, rule: dict[str, Any], by: str = "") -> None:
        self.group(rule["group_id"])
        if RULES.find(self.rules, rule["rule_id"]) is not None:
            raise RoutingError(f"rule {rule['rule_id']!r} exists; change it instead", "rule_id")
        self.trigger_event(self.RuleAdded, rule=rule, by=by)

    def change_rule(self, rule: dict[str, Any], by: str = "") -> None:
        self.group(rule["group_id"])
        if self.rule(rule["rule_id"]) != rule:
            self.trigger_event(self.RuleChanged, rule=rule, by=by)

    def retire_rule(self, rule_id: str, by: str = "") -> None:
        self.rule(rule_id)
        self.trigger_event(self.RuleRetired, rule_id=rule_id, by=by)

    def reorder_rules(self, rule_ids: list[str], by: str = "") -> None:
        if not RULES.names_each_once(self.rules, rule_ids):
            raise RoutingError("a new order must name every rule exactly once", "rule_ids")
        if RULES.moves(self.rules, rule_ids):
            self.trigger_event(self.RulesReordered, rule_ids=rule_ids, by=by)

    def rule(self, rule_id: str) -> dict[str, Any]:
        if (rule := RULES.find(self.rules, rule_id)) is not None:
            return rule
        raise NotFoundError(f"no rule {rule_id!r}", "rule_id")

    def rules_in_order(self) -> list[Rule]:
        return [rule_of(r) for r in self.rules]


class Queue(Aggregate):
    """One group's waiting tickets: highest priority first (P1 before P4), then the longest open
    (by when the ticket was opened, not by when routing heard of it: tickets reach routing over
    several partitions, in no global order)."""

    TicketQueued = queue.TicketQueued
    TicketLeft = queue.TicketLeft
    TicketReprioritised = queue.TicketReprioritised

    @staticmethod
    @lru_cache(maxsize=IDS_CACHED)
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
            self.trigger_event(self.TicketQueued, ticket_id=ticket_id, priority=priority, opened_at=opened_at)

    def remove(self, ticket_id: str) -> None:
        if ticket_id in self.waiting_tickets:
            self.trigger_event(self.TicketLeft, ticket_id=ticket_id)

    def reprioritise(self, ticket_id: str, priority: str) -> None:
        if ticket_id in self.waiting_tickets and self.waiting_tickets[ticket_id]["priority"] != priority:
            self.trigger_event(self.TicketReprioritised, ticket_id=ticket_id, priority=priority)

    def in_order(self) -> list[str]:
        """Ticket ids, best first."""
        return waiting_order(self.waiting_tickets)


class Agent(CopyOnWrite, Aggregate):
    """(Its events assign new lists, never change one in place (events/agent.py): copies share them.)"""

    Updated = agent.Updated
    PresenceChanged = agent.PresenceChanged
    TicketTaken = agent.TicketTaken
    TicketReleased = agent.TicketReleased

    @staticmethod
    @lru_cache(maxsize=IDS_CACHED)
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

    def update(self, groups: list[str], skills: list[str], tier: int, capacity: int, by: str = "") -> None:
        if (sorted(groups), sorted(skills), tier, capacity) != (self.groups, self.skills, self.tier, self.capacity):
            changed = {"groups": sorted(groups), "skills": sorted(skills), "tier": tier, "capacity": capacity}
            self.trigger_event(self.Updated, **changed, by=by)

    def set_presence(self, presence: Presence) -> None:
        if presence.value != self.presence:
            self.trigger_event(self.PresenceChanged, presence=presence.value)

    def take(self, ticket_id: str, by_person: bool = False) -> None:
        """Hold `ticket_id`. Routing never goes above capacity; a person's assignment may."""
        if ticket_id in self.tickets:
            return
        if not by_person:
            if self.presence != Presence.ONLINE:
                raise RoutingError(f"{self.agent_id} is {self.presence}")
            if len(self.tickets) >= self.capacity:
                raise RoutingError(f"{self.agent_id} is at capacity")
        self.trigger_event(self.TicketTaken, ticket_id=ticket_id)

    def release(self, ticket_id: str) -> None:
        if ticket_id in self.tickets:
            self.trigger_event(self.TicketReleased, ticket_id=ticket_id)

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

    class Event(decision.TicketRoutingEvent):
        """Every event of a ticket's routing (events/decision.py); each is named here, which gives it its topic."""

    Decided = decision.Decided

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
