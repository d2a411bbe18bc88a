"""Routing's application: the desk's setup, its agents, and a decision for every ticket.

Every command reads fresh state into a `Work` (one unit of work: each aggregate loaded
once), decides, and is recorded by `commit` in one transaction; a lost race on any
aggregate's version decides again. Reactions to upstream events are recorded with the
event's tracking row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate
from eventsourcing.persistence import Tracking

from schemas.routing import DecisionKind
from services.chassis.storage.idempotency import KeyedRequest
from services.chassis.storage.keyed_commands import commit_once
from services.chassis.storage.processing import ProcessRecorderMixin, UnitOfWork
from services.chassis.storage.processing import as_of as replayed
from services.routing.choosing import AgentChoice, Presence, Strategy, TicketFacts, choose_agent, choose_group
from services.routing.domain import Agent, DeskSetup, NotFoundError, Queue, RoutingError, TicketRouting

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


class Routing(ProcessRecorderMixin, Application[UUID]):
    name = "routing"
    # Cached aggregates are fast-forwarded from the store on every get: no stale reads.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "20000"}
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {
        DeskSetup: 100,
        Queue: 100,
        Agent: 100,
    }

    def run(
        self,
        tenant: str,
        decide: Callable[[Work], None],
        tracking: Tracking | None = None,
        cause: Cause | None = None,
        keyed: KeyedRequest | None = None,
        subject: str = "",
    ) -> bool:
        """Decide on fresh state and record every change (with `tracking`) in one transaction. With `keyed` (a
        request's Idempotency-Key) a retry decides nothing: False when it was carried out before."""

        def attempt() -> tuple[Iterable[Aggregate], str]:
            work = Work(self, tenant, cause)
            decide(work)
            return work.changed(), subject

        return commit_once(self, tenant, keyed, attempt, tracking)[1]

    # -- setup (the admin's commands) ------------------------------------------------

    def define_group(
        self,
        tenant: str,
        group_id: str,
        tier: int,
        strategy: Strategy,
        escalates_to: str | None = None,
        escalate_on: list[str] | None = None,
        default: bool = False,
    ) -> None:
        """Define or redefine a group; the tenant's first group is its default until another is made so."""

        def decide(work: Work) -> None:
            with suppress(NotFoundError):
                setup = work.setup()
                setup.define_group(group_id, tier, strategy, escalates_to, escalate_on or [])
                if default:
                    setup.make_default(group_id)
                return
            setup = work.add(DeskSetup(tenant, group_id))
            setup.define_group(group_id, tier, strategy, escalates_to, escalate_on or [])

        self.run(tenant, decide)

    def add_rule(self, tenant: str, rule: dict[str, Any], keyed: KeyedRequest | None = None) -> bool:
        """False: a keyed retry, the rule added before."""
        return self.run(tenant, lambda work: work.setup().add_rule(rule), keyed=keyed, subject=rule["rule_id"])

    def change_rule(self, tenant: str, rule: dict[str, Any]) -> None:
        self.run(tenant, lambda work: work.setup().change_rule(rule))

    def retire_rule(self, tenant: str, rule_id: str) -> None:
        self.run(tenant, lambda work: work.setup().retire_rule(rule_id))

    def reorder_rules(self, tenant: str, rule_ids: list[str]) -> None:
        self.run(tenant, lambda work: work.setup().reorder_rules(rule_ids))

    def register_agent(
        self,
        tenant: str,
        agent_id: str,
        groups: list[str],
        skills: list[str],
        tier: int,
        capacity: int,
        cause: Cause | None = None,
    ) -> None:
        """Register an agent, or change one; a raised capacity takes waiting tickets at once."""
        if capacity < 0:
            raise RoutingError("capacity is zero or more", "capacity")

        def decide(work: Work) -> None:
            work.setup().set_membership(agent_id, groups)
            try:
                agent = work.agent(agent_id)
            except NotFoundError:
                agent = work.add(Agent(tenant, agent_id, groups, skills, tier, capacity))
            agent.update(groups, skills, tier, capacity)
            drain(work, agent.groups)

        self.run(tenant, decide, cause=cause)

    def set_presence(self, tenant: str, agent_id: str, presence: Presence, cause: Cause | None = None) -> None:
        """Online takes waiting tickets; offline gives back the tickets not started yet."""

        def decide(work: Work) -> None:
            agent = work.agent(agent_id)
            agent.set_presence(presence)
            if presence is Presence.OFFLINE:
                for ticket_id in list(agent.tickets):
                    routing = work.routing(ticket_id)
                    if routing is not None and not routing.work_started and not routing.by_person:
                        agent.release(ticket_id)
                        requeue(work, routing, f"{agent_id} went offline before starting it")
            drain(work, agent.groups)

        self.run(tenant, decide, cause=cause)

    def escalate(
        self, tenant: str, ticket_id: str, reason: str, cause: Cause | None = None, keyed: KeyedRequest | None = None
    ) -> None:
        """A person asks: the ticket goes to the next tier's group, even over a manual assignment (once per keyed
        request: a retry does not escalate a tier further)."""

        def decide(work: Work) -> None:
            routing = work.routing(ticket_id)
            if routing is None:
                raise NotFoundError(f"routing knows no ticket {ticket_id}", "ticket_id")
            escalate(work, routing, reason, by_person=True)

        self.run(tenant, decide, cause=cause, keyed=keyed, subject=ticket_id)

    # -- reactions to ticket and SLA events (called by the consumer) --------------------

    def ticket_opened(
        self, tenant: str, ticket_id: str, facts: TicketFacts, tracking: Tracking, cause: Cause | None = None
    ) -> None:
        def decide(work: Work) -> None:
            if work.routing(ticket_id) is not None:
                return
            try:
                setup = work.setup()
            except NotFoundError:
                return  # a tenant without routing: its tickets are assigned by hand
            channel_default = facts.default_group if facts.default_group in setup.groups else None
            group = choose_group(setup.rules_in_order(), channel_default or setup.default_group, facts)
            routing = work.add(
                TicketRouting(id=UUID(ticket_id), tenant=tenant, priority=facts.priority, opened_at=facts.opened_at)
            )
            default = "the channel's default group" if channel_default else "the default group"
            why = f"rule {group.rule_id!r} matched" if group.rule_id else f"no rule matched: {default}"
            place(
                work,
                routing,
                group.group_id,
                sorted(group.skills),
                why,
                group.rule_id,
                group.passed_over,
                DecisionKind.ROUTED,
            )

        self.run(tenant, decide, tracking, cause)

    def ticket_changed(
        self,
        tenant: str,
        ticket_id: str,
        change: Callable[[Work, TicketRouting], None],
        tracking: Tracking,
        cause: Cause | None = None,
    ) -> None:
        """Apply `change` to a ticket routing knows; a ticket it never routed only records `tracking`."""

        def decide(work: Work) -> None:
            routing = work.routing(ticket_id)
            if routing is not None:
                change(work, routing)

        self.run(tenant, decide, tracking, cause)

    def nothing(self, tenant: str, tracking: Tracking) -> None:
        """An event routing never acts on (a comment, its own assignment coming back): no effect to
        record, so no transaction either; a redelivery is as harmless as the first delivery."""

    # -- reading -----------------------------------------------------------------------

    def setup(self, tenant: str, as_of: datetime | None = None) -> DeskSetup:
        """The tenant's setup now, or as it was at `as_of` (the rules then in force)."""
        if as_of is None:
            return Work(self, tenant).setup()
        setup = replayed(self, DeskSetup.create_id(tenant), as_of)
        if setup is None:
            raise NotFoundError(f"routing was not set up for tenant {tenant!r} at {as_of.isoformat()}")
        assert isinstance(setup, DeskSetup)
        return setup

    def agent(self, tenant: str, agent_id: str) -> Agent:
        return Work(self, tenant).agent(agent_id)

    def agents(self, tenant: str) -> list[Agent]:
        work = Work(self, tenant)
        ids = sorted({a for agents in work.setup().members.values() for a in agents})
        return [work.agent(agent_id) for agent_id in ids]

    def queue(self, tenant: str, group_id: str) -> Queue:
        work = Work(self, tenant)
        work.setup().group(group_id)
        return work.queue(group_id)

    def ticket(self, tenant: str, ticket_id: str) -> TicketRouting:
        routing = Work(self, tenant).routing(ticket_id)
        if routing is None:
            raise NotFoundError(f"routing knows no ticket {ticket_id}", "ticket_id")
        return routing

    def decisions(self, tenant: str, ticket_id: str) -> Iterator[Any]:
        """Every recorded event of the ticket's routing, oldest first."""
        self.ticket(tenant, ticket_id)
        yield from self.events.get(UUID(ticket_id))


# -- the decisions, on one unit of work ------------------------------------------------


def place(
    work: Work,
    routing: TicketRouting,
    group_id: str,
    skills: list[str],
    why: str,
    rule_id: str | None,
    rules_passed_over: dict[str, str],
    kind: DecisionKind,
    prefer: str | None = None,
    overrides_manual: bool = False,
) -> None:
    """Give the ticket to an agent of `group_id` by the group's strategy, or queue it there."""
    setup = work.setup()
    agents = work.agents(setup.members.get(group_id, []))
    pick = _choose(setup.strategy_of(group_id), agents, frozenset(skills), prefer)
    tier = setup.tier_of(group_id)
    ticket_id = str(routing.id)
    if pick.agent_id is None:
        work.queue(group_id).add(ticket_id, routing.priority, routing.opened_at)
        kind = DecisionKind.QUEUED if kind is DecisionKind.ROUTED else kind
        text = f"{why}; waits in {group_id!r}: {pick.reason}"
    else:
        work.agent(pick.agent_id).take(ticket_id)
        text = f"{why}; {pick.agent_id}: {pick.reason}"
    routing.decide(
        kind=kind.value,
        group_id=group_id,
        agent_id=pick.agent_id,
        tier=tier,
        rule_id=rule_id,
        reason=text,
        skills=skills,
        rules_passed_over=rules_passed_over,
        agents_passed_over=pick.passed_over,
        overrides_manual=overrides_manual,
        cause=work.cause,
    )


def _choose(strategy: Strategy, agents: list[Agent], skills: frozenset[str], prefer: str | None) -> AgentChoice:
    """`prefer` (the agent who had a reopened ticket) takes it again when able."""
    states = [a.state() for a in agents]
    if prefer is not None:
        again = choose_agent(strategy, [s for s in states if s.agent_id == prefer], skills)
        if again.agent_id is not None:
            return AgentChoice(again.agent_id, "had the ticket before", {})
    return choose_agent(strategy, states, skills)


def drain(work: Work, group_ids: Iterable[str]) -> None:
    """Give waiting tickets of `group_ids` to agents who can take them now, best first."""
    setup = work.setup()
    for group_id in group_ids:
        queue = work.queue(group_id)
        members = setup.members.get(group_id, [])
        for ticket_id in queue.in_order():
            agents = work.agents(members)
            routing = work.routing(ticket_id)
            if routing is None or routing.done or routing.agent_id is not None or routing.group_id != group_id:
                queue.remove(ticket_id)  # no longer waiting here
                continue
            pick = choose_agent(setup.strategy_of(group_id), [a.state() for a in agents], frozenset(routing.skills))
            if pick.agent_id is None:
                if not routing.skills:
                    break  # nobody can take anything now
                continue  # a ticket needing other skills may still fit someone
            queue.remove(ticket_id)
            work.agent(pick.agent_id).take(ticket_id)
            routing.decide(
                kind=DecisionKind.FROM_QUEUE.value,
                group_id=group_id,
                agent_id=pick.agent_id,
                tier=setup.tier_of(group_id),
                rule_id=None,
                reason=f"from the queue of {group_id!r}; {pick.agent_id}: {pick.reason}",
                skills=routing.skills,
                rules_passed_over={},
                agents_passed_over=pick.passed_over,
                overrides_manual=False,
                cause=work.cause,
            )


def requeue(work: Work, routing: TicketRouting, why: str) -> None:
    assert routing.group_id is not None
    setup = work.setup()
    work.queue(routing.group_id).add(str(routing.id), routing.priority, routing.opened_at)
    routing.decide(
        kind=DecisionKind.REQUEUED.value,
        group_id=routing.group_id,
        agent_id=None,
        tier=setup.tier_of(routing.group_id),
        rule_id=None,
        reason=f"back in the queue: {why}",
        skills=routing.skills,
        rules_passed_over={},
        agents_passed_over={},
        overrides_manual=False,
        cause=work.cause,
    )


def release(work: Work, routing: TicketRouting) -> list[str]:
    """Free the ticket's agent (or its place in a queue); the groups whose queues may move now."""
    groups: list[str] = []
    if routing.agent_id is not None:
        with suppress(NotFoundError):
            agent = work.agent(routing.agent_id)
            agent.release(str(routing.id))
            groups = agent.groups
    elif routing.group_id is not None:
        work.queue(routing.group_id).remove(str(routing.id))
    return groups


def escalate(work: Work, routing: TicketRouting, why: str, by_person: bool) -> None:
    """To the next tier's group, reassigned there; the freed agent takes from their queues."""
    if routing.done:
        raise RoutingError("the ticket is resolved: reopen it to escalate", "ticket_id")
    if routing.group_id is None:
        raise RoutingError("the ticket is in no group to escalate from", "ticket_id")
    setup = work.setup()
    current = setup.group(routing.group_id)
    target: str | None = current["escalates_to"]
    if target is None:
        raise RoutingError(f"group {routing.group_id!r} has no higher tier to escalate to", "ticket_id")
    freed = release(work, routing)
    place(
        work,
        routing,
        target,
        routing.skills,
        f"escalated from {routing.group_id!r}: {why}",
        None,
        {},
        DecisionKind.ESCALATED,
        overrides_manual=by_person,
    )
    drain(work, freed)


def finish(work: Work, routing: TicketRouting, why: str) -> None:
    """The ticket is resolved, closed or merged: its agent's capacity frees for the queue."""
    if routing.done:
        return
    routing.finish(why)
    drain(work, release(work, routing))


def reopen(work: Work, routing: TicketRouting) -> None:
    """Back to the group it was in, to the same agent when they can take it."""
    if not routing.done:
        return
    routing.reopen()
    if routing.by_person or routing.group_id is None:
        if routing.agent_id is not None:
            with suppress(NotFoundError):
                work.agent(routing.agent_id).take(str(routing.id), by_person=True)
        return
    place(
        work,
        routing,
        routing.group_id,
        routing.skills,
        "reopened",
        None,
        {},
        DecisionKind.ROUTED,
        prefer=routing.agent_id,
    )


def assigned_by_person(work: Work, routing: TicketRouting, group_id: str | None, agent_id: str | None) -> None:
    """A person's assignment: routing's load follows it and never overrides it."""
    if (routing.group_id, routing.agent_id) == (group_id, agent_id) and routing.by_person:
        return
    freed = release(work, routing)
    routing.assigned_by_person(group_id, agent_id)
    if agent_id is not None and not routing.done:
        with suppress(NotFoundError):
            work.agent(agent_id).take(str(routing.id), by_person=True)
    drain(work, freed)


def reprioritise(work: Work, routing: TicketRouting, priority: str) -> None:
    routing.reprioritise(priority)
    if routing.agent_id is None and routing.group_id is not None and not routing.done:
        work.queue(routing.group_id).reprioritise(str(routing.id), priority)
