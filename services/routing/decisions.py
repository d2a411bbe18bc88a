"""The decisions routing takes on one unit of work: place a ticket, drain a queue, requeue, release,
escalate, finish, reopen, follow a person's assignment, reprioritise.

The application's commands and the reactions to ticket and SLA events call these inside `Routing.run`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress

from schemas.routing import DecisionKind
from services.routing.choosing import AgentChoice, Strategy, choose_agent
from services.routing.domain import Agent, TicketRouting
from services.routing.errors import NotFoundError, RoutingError
from services.routing.work import Work


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
