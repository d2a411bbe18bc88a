"""How routing chooses: which rule matches a ticket, and which agent of a group takes it.

Pure functions over plain values, so a decision can be replayed and explained: each
returns its choice together with the reasons it passed over everything else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Strategy(StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    SKILLS_MATCH = "skills_match"


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


def _plain(word: str) -> str:
    return word


@dataclass(frozen=True)
class TicketFacts:
    """What routing knows of a ticket: classifications only, no personal data. `words` are the
    keyed digests of the ticket's words (schemas/keywords.py), `digest` makes one of a rule's word."""

    category: str
    type: str
    priority: str
    channel: str
    tags: frozenset[str] = frozenset()
    organisation: str | None = None
    words: frozenset[str] = frozenset()
    opened_at: str = ""  # ISO 8601, UTC: the queue's "oldest first"
    default_group: str | None = None  # the channel's (a desk mailbox's): instead of the tenant's default
    digest: Callable[[str], str] = field(default=_plain, compare=False, repr=False)


@dataclass(frozen=True)
class Rule:
    """Tickets matching every given condition go to `group_id`, needing `skills`."""

    rule_id: str
    group_id: str
    categories: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    priorities: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()
    skills: frozenset[str] = frozenset()

    def mismatch(self, ticket: TicketFacts) -> str | None:
        """Why this rule does not match `ticket`, or None when it does."""
        checks = [
            ("category", self.categories, {ticket.category}),
            ("type", self.types, {ticket.type}),
            ("priority", self.priorities, {ticket.priority}),
            ("channel", self.channels, {ticket.channel}),
            ("tags", self.tags, ticket.tags),
            ("organisation", self.organisations, {ticket.organisation} if ticket.organisation else set()),
        ]
        for name, wanted, present in checks:
            if wanted and not wanted & present:
                return f"{name} is not one of {sorted(wanted)}"
        if self.words and not {ticket.digest(word) for word in self.words} & ticket.words:
            return f"words is not one of {sorted(self.words)}"
        return None


@dataclass(frozen=True)
class GroupChoice:
    group_id: str
    rule_id: str | None
    skills: frozenset[str]
    passed_over: dict[str, str] = field(default_factory=dict)


def choose_group(rules: list[Rule], default_group: str, ticket: TicketFacts) -> GroupChoice:
    """The first rule (in order) that matches wins; otherwise the tenant's default group."""
    passed_over: dict[str, str] = {}
    for rule in rules:
        reason = rule.mismatch(ticket)
        if reason is None:
            return GroupChoice(rule.group_id, rule.rule_id, rule.skills, passed_over)
        passed_over[rule.rule_id] = reason
    return GroupChoice(default_group, None, frozenset(), passed_over)


@dataclass(frozen=True)
class AgentState:
    agent_id: str
    skills: frozenset[str]
    capacity: int
    presence: Presence
    load: int
    last_assigned: int = 0  # a logical clock: lower means longer ago


@dataclass(frozen=True)
class AgentChoice:
    agent_id: str | None
    reason: str
    passed_over: dict[str, str] = field(default_factory=dict)


def choose_agent(strategy: Strategy, agents: list[AgentState], skills: frozenset[str]) -> AgentChoice:
    """An agent of the group by its strategy; None (the ticket waits in the queue) when nobody can."""
    passed_over: dict[str, str] = {}
    able: list[AgentState] = []
    for agent in agents:
        if agent.presence is not Presence.ONLINE:
            passed_over[agent.agent_id] = f"is {agent.presence.value}"
        elif agent.load >= agent.capacity:
            passed_over[agent.agent_id] = f"at capacity ({agent.load}/{agent.capacity})"
        elif strategy is Strategy.SKILLS_MATCH and not skills <= agent.skills:
            passed_over[agent.agent_id] = f"lacks {sorted(skills - agent.skills)}"
        else:
            able.append(agent)
    if not able:
        return AgentChoice(None, "no agent can take it now: queued", passed_over)
    if strategy is Strategy.ROUND_ROBIN:
        chosen = min(able, key=lambda a: (a.last_assigned, a.agent_id))
        reason = "round robin: longest since last assignment"
    else:
        chosen = min(able, key=lambda a: (a.load / a.capacity, a.last_assigned, a.agent_id))
        reason = "has every skill; least loaded" if strategy is Strategy.SKILLS_MATCH else "least loaded"
    for agent in able:
        if agent is not chosen:
            passed_over[agent.agent_id] = f"load {agent.load}/{agent.capacity}, chose a better fit"
    return AgentChoice(chosen.agent_id, reason, passed_over)


PRIORITY_ORDER = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}


def waiting_order(waiting: dict[str, dict[str, Any]]) -> list[str]:
    """The ids of a queue's waiting tickets, best first: highest priority first (P1 before P4), then the
    longest open (by when the ticket was opened, not by when routing heard of it: tickets reach routing
    over several partitions, in no global order), then the first to arrive."""
    return sorted(
        waiting,
        key=lambda t: (
            PRIORITY_ORDER.get(waiting[t]["priority"], 9),
            waiting[t].get("opened_at", ""),
            waiting[t]["seq"],
        ),
    )
