"""Routing's application: the desk's setup, its agents, and a decision for every ticket.

Every command reads fresh state into a `Work` (one unit of work: each aggregate loaded
once), decides (decisions.py), and is recorded by `commit` in one transaction; a lost race on any
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
from services.chassis.domain.admin_changes import admin_changes
from services.chassis.storage.idempotency import KeyedRequest
from services.chassis.storage.keyed_commands import commit_once
from services.chassis.storage.processing import ProcessRecorderMixin
from services.chassis.storage.processing import as_of as replayed
from services.chassis.storage.store import CACHED
from services.routing.choosing import Presence, Strategy, TicketFacts, choose_group
from services.routing.decisions import drain, escalate, place, requeue
from services.routing.domain import Agent, DeskSetup, Queue, TicketRouting
from services.routing.errors import NotFoundError, RoutingError
from services.routing.work import Cause, Work

# What the rules screen's history lists (the setup's group and membership changes have admins too)
RULE_CHANGES = (DeskSetup.RuleAdded, DeskSetup.RuleChanged, DeskSetup.RuleRetired, DeskSetup.RulesReordered)


class Routing(ProcessRecorderMixin, Application[UUID]):
    name = "routing"
    # Cached aggregates are fast-forwarded from the store on every get: no stale reads.
    env: ClassVar[dict[str, str]] = CACHED  # the desk sets its size: Settings.aggregate_cache_size
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
        by: str = "",
    ) -> None:
        """Define or redefine a group; the tenant's first group is its default until another is made so.
        `by`: the admin who does it."""

        def decide(work: Work) -> None:
            with suppress(NotFoundError):
                setup = work.setup()
                setup.define_group(group_id, tier, strategy, escalates_to, escalate_on or [], by)
                if default:
                    setup.make_default(group_id, by)
                return
            setup = work.add(DeskSetup(tenant, group_id))
            setup.define_group(group_id, tier, strategy, escalates_to, escalate_on or [], by)

        self.run(tenant, decide)

    # `by`: the admin who changes the rules (their token's subject), recorded on each change.

    def add_rule(self, tenant: str, rule: dict[str, Any], keyed: KeyedRequest | None = None, by: str = "") -> bool:
        """False: a keyed retry, the rule added before."""
        return self.run(tenant, lambda work: work.setup().add_rule(rule, by), keyed=keyed, subject=rule["rule_id"])

    def change_rule(self, tenant: str, rule: dict[str, Any], by: str = "") -> None:
        self.run(tenant, lambda work: work.setup().change_rule(rule, by))

    def retire_rule(self, tenant: str, rule_id: str, by: str = "") -> None:
        self.run(tenant, lambda work: work.setup().retire_rule(rule_id, by))

    def reorder_rules(self, tenant: str, rule_ids: list[str], by: str = "") -> None:
        self.run(tenant, lambda work: work.setup().reorder_rules(rule_ids, by))

    def rule_changes(self, tenant: str, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` changes of the tenant's rules, newest first, each with the admin who made it."""
        events = self.events.get(self.setup(tenant).id, desc=True)
        return admin_changes(events, RULE_CHANGES, limit)

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
        """Register an agent, or change one; a raised capacity takes waiting tickets at once. The cause's
        actor (the admin) is recorded as who made the change."""
        if capacity < 0:
            raise RoutingError("capacity is zero or more", "capacity")
        by = str((cause or {}).get("actor") or "")

        def decide(work: Work) -> None:
            work.setup().set_membership(agent_id, groups, by)
            try:
                agent = work.agent(agent_id)
            except NotFoundError:
                agent = work.add(Agent(tenant, agent_id, groups, skills, tier, capacity))
            agent.update(groups, skills, tier, capacity, by)
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
