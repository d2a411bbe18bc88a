"""Routing's what-if: the window's tickets routed again under a candidate rule set, beside the current rules.

What a decision depends on is more than the tickets: the desk's groups, its agents (skills, capacity,
presence) and their loads as tickets come and go. So each replay is a whole `Routing` application on the
in-memory store (a sandbox: never the live store, never a live topic), started from routing's own
aggregates as they were at the window's start (its stored events up to then), then fed, in order, the
window's public ticket and SLA events through the very reactions the live consumer runs (reactions.py,
decisions.py, choosing.py) and the desk's own changes of the window (groups, agents, presence, rules,
a person's escalation) through the application's commands.

Routing's own changes are put among the ticket events where the live service made them: right after the
last ticket event whose effect routing had recorded before them (its decisions name the event they
answer; a ticket's other effects are matched to its events of that kind). That is the order the live
desk saw, whatever the instants in the events say.

The current rules' replay is checked against what happened (`routing.decided` of the window):
`reproduces_history`. The candidate replaces the rules (and, for the groups it names, their strategies)
for the whole window; rule changes made in the window apply only to the current replay.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast
from uuid import UUID

from eventsourcing.application import Application, LRUCache
from eventsourcing.persistence import Tracking
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.envelope import Envelope
from schemas.keywords import KeywordDigests
from schemas.registry import TypedEnvelope, upcast
from schemas.routing import ROUTING_ACTOR, RoutingDecidedV1
from schemas.sla import SlaBreachedV1, SlaWarningV1
from schemas.tickets import (
    TicketAssignedV1,
    TicketMergedV1,
    TicketOpenedV3,
    TicketPriorityChangedV1,
    TicketStatusChangedV1,
)
from schemas.topics import ROUTING_DECISIONS, SLA_CLOCKS, TICKETS
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env, tracking_recorder
from services.chassis.whatif.history import tenant_history
from services.chassis.whatif.http import candidate_check, mount_jobs
from services.chassis.whatif.jobs import WhatIfJobs
from services.chassis.whatif.replay import SANDBOX, Progress, WhatIfRequest
from services.routing.application import Routing
from services.routing.choosing import Presence, Strategy
from services.routing.domain import DeskSetup, TicketRouting
from services.routing.errors import RoutingError
from services.routing.reactions import reactions
from services.routing.requests import NAME, NewRule

CACHED = 20_000  # aggregates the sandbox keeps (as the live service does): others are read from its store
EXAMPLES = 10  # example tickets a report shows of each kind
# In memory, one thread, no rival writer: aggregates are changed where the cache holds them (no copy for
# each command, no reading back what was just saved), and a command refused is undone by forgetting them.
Name = Annotated[str, Field(pattern=NAME)]


class RoutingCandidate(BaseModel):
    """A rule set as routing's API takes its rules: in order, the first that matches wins; optionally a
    strategy for some groups. Errors name the field (`rules.2.group_id`)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[NewRule] = Field(description="The candidate rules, in the order they are tried.")
    strategies: dict[Name, Strategy] = Field(
        default_factory=dict, description="A group's assignment strategy instead of its own, by group id."
    )

    @field_validator("rules")
    @classmethod
    def _each_rule_once(cls, rules: list[NewRule]) -> list[NewRule]:
        seen = Counter(rule.rule_id for rule in rules)
        if twice := sorted(rule_id for rule_id, n in seen.items() if n > 1):
            raise ValueError(f"each rule_id once: {twice} appear more than once")
        return rules

    def rule_specs(self) -> list[dict[str, Any]]:
        """As `DeskSetup` stores rules."""
        return [rule.as_rule(rule.rule_id) for rule in self.rules]


# -- what routing's own store says of the window ------------------------------------------------------


@dataclass
class StoreWindow:
    """Routing's store for one tenant: its aggregates' events before the window (the sandbox's start) and
    its events within the window, in the order recorded."""

    before: list[Any] = field(default_factory=list)
    within: list[Any] = field(default_factory=list)


def store_window(app: Application[UUID], tenant: str, since: datetime, page: int = 2000) -> StoreWindow:
    """Read routing's notification log once (nothing is written): the tenant's setup, agents, queues and
    ticket routings, split at `since`."""
    window = StoreWindow()
    mine = {DeskSetup.create_id(tenant)}
    start = 1
    while notifications := app.recorder.select_notifications(start, page):
        start = notifications[-1].id + 1
        for notification in notifications:
            event: Any = app.mapper.to_domain_event(notification)
            kind = type(event).__qualname__
            if kind in ("Agent.Registered", "Queue.Created") and event.tenant == tenant:
                mine.add(event.originator_id)
            if event.originator_id in mine or (kind.startswith("TicketRouting.") and event.tenant == tenant):
                (window.before if event.timestamp < since else window.within).append(event)
    return window


# -- the replay's timeline --------------------------------------------------------------------------

_DESK = {
    "DeskSetup.GroupDefined",
    "DeskSetup.DefaultGroupChanged",
    "DeskSetup.RuleAdded",
    "DeskSetup.RuleChanged",
    "DeskSetup.RuleRetired",
    "DeskSetup.RulesReordered",
    "Agent.Registered",
    "Agent.Updated",
    "Agent.PresenceChanged",
}


def _effect_of(data: Any, actor: str) -> str | None:
    """Which stored event of the ticket's routing answers this upstream event, when routing records one."""
    match data:
        case TicketOpenedV3():
            return "Started"
        case TicketStatusChangedV1(change="work_started"):
            return "WorkStarted"
        case TicketStatusChangedV1(change="reopened"):
            return "Reopened"
        case TicketStatusChangedV1(status="resolved" | "closed") | TicketMergedV1():
            return "Finished"
        case TicketPriorityChangedV1():
            return "Reprioritised"
        case TicketAssignedV1() if actor != ROUTING_ACTOR:
            return "AssignedByPerson"
    return None


def _by_person(event: Any) -> bool:
    """A person's escalation (`Routing.escalate`): a decision no upstream event caused."""
    return type(event).__qualname__ == "TicketRouting.Decided" and event.kind == "escalated" and event.overrides_manual


def timeline(tickets: list[TypedEnvelope], within: list[Any]) -> list[tuple[str, Any]]:
    """Ticket events in the order they happened, and routing's own changes of the window among them
    where the live service made them: ("ticket", envelope) and ("desk", stored event)."""
    index = {str(e.id): i for i, e in enumerate(tickets)}
    pending: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, envelope in enumerate(tickets):
        if (effect := _effect_of(envelope.data, envelope.actor)) is not None:
            pending[(str(getattr(envelope.data, "ticket_id", "")), effect)].append(i)
    anchored: dict[int, list[Any]] = defaultdict(list)  # after which ticket event (-1: before all)
    anchor = -1
    for event in within:
        kind = type(event).__qualname__
        if kind in _DESK or _by_person(event):
            anchored[anchor].append(event)
        elif kind == "TicketRouting.Decided":
            if (caused := index.get(event.cause.get("causation_id", ""))) is not None:
                anchor = max(anchor, caused)
        elif kind.startswith("TicketRouting.") and (found := pending.get((str(event.originator_id), kind[14:]))):
            anchor = max(anchor, found.pop(0))
    merged: list[tuple[str, Any]] = [("desk", e) for e in anchored[-1]]
    for i, envelope in enumerate(tickets):
        merged.append(("ticket", envelope))
        merged.extend(("desk", e) for e in anchored[i])
    return merged


# -- one sandbox -------------------------------------------------------------------------------------


@dataclass
class Decision:
    ticket_id: str
    kind: str
    group_id: str
    agent_id: str | None
    reason: str


class Sandbox:
    """Routing on the in-memory store, from the tenant's aggregates at the window's start; `candidate`
    replaces its rules (and the strategies it names) throughout."""

    def __init__(
        self, tenant: str, digests: KeywordDigests, before: list[Any], candidate: RoutingCandidate | None
    ) -> None:
        self.tenant = tenant
        self.routing = Routing(env=SANDBOX)
        if before:
            self.routing.events.put(before)
        self.apply = reactions(self.routing, digests)
        self.positions = itertools.count(1)
        self.candidate = candidate
        self.agent_ids = {e.originator_id: e.agent_id for e in before if type(e).__qualname__ == "Agent.Registered"}
        self.skipped: list[str] = []  # desk changes the sandbox refused (a candidate's group missing, ...)
        self._impose()

    def ticket_event(self, envelope: TypedEnvelope) -> None:
        tracking = Tracking("what-if", next(self.positions))
        self.apply(cast(Envelope, envelope), upcast(envelope.data), tracking)

    def desk_event(self, event: Any) -> None:
        kind = type(event).__qualname__
        try:
            self._desk(kind, event)
        except RoutingError as error:
            self.skipped.append(f"{kind}: {error}")
            self._forget_unsaved()

    def _forget_unsaved(self) -> None:
        """A refused command may have changed cached aggregates before it raised: read them again from the
        sandbox's store."""
        repository = self.routing.repository
        repository.cache = LRUCache(maxsize=CACHED)

    def _desk(self, kind: str, event: Any) -> None:
        routing, tenant, candidate = self.routing, self.tenant, self.candidate
        match kind:
            case "DeskSetup.GroupDefined":
                spec = event.spec
                strategy = Strategy(spec["strategy"])
                if candidate is not None:
                    strategy = candidate.strategies.get(event.group_id, strategy)
                routing.define_group(
                    tenant, event.group_id, spec["tier"], strategy, spec["escalates_to"], spec["escalate_on"]
                )
                self._impose()
            case "DeskSetup.DefaultGroupChanged":
                routing.run(tenant, lambda work: work.setup().make_default(event.group_id))
            case "DeskSetup.RuleAdded" if candidate is None:
                routing.add_rule(tenant, event.rule)
            case "DeskSetup.RuleChanged" if candidate is None:
                routing.change_rule(tenant, event.rule)
            case "DeskSetup.RuleRetired" if candidate is None:
                routing.retire_rule(tenant, event.rule_id)
            case "DeskSetup.RulesReordered" if candidate is None:
                routing.reorder_rules(tenant, event.rule_ids)
            case "Agent.Registered" | "Agent.Updated":
                if kind == "Agent.Registered":
                    self.agent_ids[event.originator_id] = event.agent_id
                agent_id = self.agent_ids[event.originator_id]
                routing.register_agent(tenant, agent_id, event.groups, event.skills, event.tier, event.capacity)
            case "Agent.PresenceChanged":
                routing.set_presence(tenant, self.agent_ids[event.originator_id], Presence(event.presence))
            case "TicketRouting.Decided":
                routing.escalate(tenant, str(event.originator_id), event.reason.partition(": ")[2] or event.reason)

    def _impose(self) -> None:
        """The candidate's rules (those whose group exists yet) and strategies, in place of the setup's."""
        if self.candidate is None:
            return
        rules, strategies = self.candidate.rule_specs(), self.candidate.strategies

        def decide(work: Any) -> None:
            setup: DeskSetup = work.setup()
            wanted = [rule for rule in rules if rule["group_id"] in setup.groups]
            if setup.rules != wanted:
                for rule in list(setup.rules):
                    setup.retire_rule(rule["rule_id"])
                for rule in wanted:
                    setup.add_rule(rule)
            for group_id, strategy in strategies.items():
                if (spec := setup.groups.get(group_id)) is not None and spec["strategy"] != strategy.value:
                    setup.define_group(group_id, spec["tier"], strategy, spec["escalates_to"], spec["escalate_on"])

        if self.routing.recorder.select_events(DeskSetup.create_id(self.tenant), limit=1):
            self.routing.run(self.tenant, decide)

    def decisions(self) -> list[Decision]:
        """Every decision the sandbox took in the window, in order."""
        found: list[Decision] = []
        start = 1
        recorder: Any = self.routing.recorder
        while notifications := recorder.select_notifications(start, 5000):
            start = notifications[-1].id + 1
            for notification in notifications:
                if not notification.topic.endswith("TicketRouting.Decided"):
                    continue
                event: Any = self.routing.mapper.to_domain_event(notification)
                found.append(
                    Decision(str(event.originator_id), event.kind, event.group_id, event.agent_id, event.reason)
                )
        return found

    def open_tickets(self) -> dict[str, TicketRouting]:
        """The routing of every ticket still open at the window's end."""
        recorder: Any = self.routing.recorder
        ids = {
            n.originator_id
            for n in recorder.select_notifications(1, 10**9)
            if n.topic.endswith("TicketRouting.Started")
        }
        aggregates: Iterator[Any] = (self.routing.repository.get(i) for i in ids)
        return {str(a.id): a for a in aggregates if isinstance(a, TicketRouting) and not a.done}


def _counted_before(before: list[Any]) -> int:
    """Decisions stored before the window (copied into the sandbox): not the window's own."""
    return sum(1 for e in before if type(e).__qualname__ == "TicketRouting.Decided")


# -- the replay and its report ------------------------------------------------------------------------


def replay_window(
    tenant: str,
    history: list[TypedEnvelope],
    store: StoreWindow,
    candidate: RoutingCandidate,
    digests: KeywordDigests,
    progress: Progress,
) -> dict[str, Any]:
    """Both replays over one window's history (ticket, SLA and routing.decided events in order) and
    routing's store split at the window's start; the report."""
    recorded = [e for e in history if isinstance(e.data, RoutingDecidedV1)]
    tickets = [e for e in history if isinstance(e.data, (*_TICKET_EVENTS, SlaWarningV1, SlaBreachedV1))]
    numbers = {e.data.ticket_id: e.data.number for e in tickets if isinstance(e.data, TicketOpenedV3)}
    steps = timeline(tickets, store.within)
    total = 2 * len(steps)
    outcomes: list[tuple[list[Decision], dict[str, TicketRouting], list[str]]] = []
    done = 0
    for rules in (None, candidate):
        sandbox = Sandbox(tenant, digests, store.before, rules)
        for what, item in steps:
            if what == "ticket":
                sandbox.ticket_event(item)
            else:
                sandbox.desk_event(item)
            done += 1
            if done % 500 == 0:
                progress(done, total)
        decisions = sandbox.decisions()[_counted_before(store.before) :]
        outcomes.append((decisions, sandbox.open_tickets(), sandbox.skipped))
    progress(total, total)
    (current, current_open, current_skipped), (proposed, proposed_open, proposed_skipped) = outcomes
    return {
        "kind": "routing",
        "tenant": tenant,
        "events": len(tickets),
        "tickets_opened": len(numbers),
        "candidate": candidate.model_dump(mode="json"),
        "assignments": {
            "per_agent": _before_after(_per(current, "agent_id"), _per(proposed, "agent_id")),
            "per_group": _before_after(_per(current, "group_id"), _per(proposed, "group_id")),
        },
        "differed": _differed(current, proposed, numbers),
        "unassigned": {
            "before": _waiting(current, current_open, numbers),
            "after": _waiting(proposed, proposed_open, numbers),
        },
        "desk_changes_not_replayed": {"before": current_skipped, "after": proposed_skipped},
        "reproduces_history": _reproduces(current, recorded, numbers),
    }


_TICKET_EVENTS = (TicketOpenedV3, TicketStatusChangedV1, TicketMergedV1, TicketPriorityChangedV1, TicketAssignedV1)


def _assigned(decisions: Iterable[Decision]) -> Iterator[Decision]:
    return (d for d in decisions if d.agent_id is not None)


def _per(decisions: list[Decision], key: str) -> Counter[str]:
    """Assignments to an agent, counted by the agent or by the agent's group."""
    return Counter(str(getattr(d, key)) for d in _assigned(decisions))


def _before_after(before: Counter[str], after: Counter[str]) -> dict[str, dict[str, int]]:
    return {k: {"before": before[k], "after": after[k], "change": after[k] - before[k]} for k in sorted(before | after)}


def _by_ticket(decisions: list[Decision]) -> dict[str, list[Decision]]:
    found: dict[str, list[Decision]] = defaultdict(list)
    for decision in decisions:
        found[decision.ticket_id].append(decision)
    return found


def _shown(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "kind": decision.kind,
        "group_id": decision.group_id,
        "agent_id": decision.agent_id,
        "reason": decision.reason,
    }


def _differed(current: list[Decision], proposed: list[Decision], numbers: dict[str, str]) -> dict[str, Any]:
    """Tickets whose assignments (group and agent of each decision, in turn) differ, with the first decision
    that differs under each."""
    before, after = _by_ticket(current), _by_ticket(proposed)
    differing = []
    for ticket_id in sorted(before.keys() | after.keys(), key=lambda t: (numbers.get(t, ""), t)):
        was, would = before.get(ticket_id, []), after.get(ticket_id, [])
        if [(d.group_id, d.agent_id) for d in was] == [(d.group_id, d.agent_id) for d in would]:
            continue
        at = next(
            (
                i
                for i, (a, b) in enumerate(zip(was, would, strict=False))
                if (a.group_id, a.agent_id) != (b.group_id, b.agent_id)
            ),
            min(len(was), len(would)),
        )
        differing.append(
            {
                "ticket_id": ticket_id,
                "number": numbers.get(ticket_id),
                "before": _shown(was[at] if at < len(was) else None),
                "after": _shown(would[at] if at < len(would) else None),
            }
        )
    return {"tickets": len(differing), "examples": differing[:EXAMPLES]}


def _waiting(
    decisions: list[Decision], still_open: dict[str, TicketRouting], numbers: dict[str, str]
) -> dict[str, Any]:
    """Tickets that waited in a queue at some point, and those left in one at the window's end."""
    queued = sorted({d.ticket_id for d in decisions if d.agent_id is None})
    left = sorted(t for t, r in still_open.items() if r.agent_id is None and r.group_id is not None)
    return {
        "ever_queued": len(queued),
        "queued_at_end": len(left),
        "examples": [
            {"ticket_id": t, "number": numbers.get(t), "group_id": still_open[t].group_id} for t in left[:EXAMPLES]
        ],
    }


def _reproduces(current: list[Decision], recorded: list[TypedEnvelope], numbers: dict[str, str]) -> dict[str, Any]:
    """The current rules' replay against the recorded `routing.decided` of the window, ticket by ticket."""
    replayed = _by_ticket(current)
    happened: dict[str, list[RoutingDecidedV1]] = defaultdict(list)
    for envelope in recorded:
        data = cast(RoutingDecidedV1, envelope.data)
        happened[data.ticket_id].append(data)
    for decisions in happened.values():
        decisions.sort(key=lambda d: int(d.decision_id.rpartition("/")[2]))
    examples = []
    tickets = sorted(replayed.keys() | happened.keys())
    for ticket_id in tickets:
        was = [(d.kind, d.group_id, d.agent_id) for d in happened.get(ticket_id, [])]
        again = [(d.kind, d.group_id, d.agent_id) for d in replayed.get(ticket_id, [])]
        if was != again:
            examples.append(
                {"ticket_id": ticket_id, "number": numbers.get(ticket_id), "recorded": was, "replayed": again}
            )
    return {"checked": len(tickets), "differed": len(examples), "examples": examples[:EXAMPLES]}


# -- the Replay the runner, the gateway and the CLI call ----------------------------------------------


def replay_from(
    live: Application[UUID],
    read_history: Callable[[str, datetime, Callable[[int], None]], list[TypedEnvelope]],
    digests: KeywordDigests,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Callable[[WhatIfRequest, Progress], dict[str, Any]]:
    """A `Replay` over routing's store `live` (only read) and the tenant's public events (`read_history`)."""

    def replay(request: WhatIfRequest, progress: Progress) -> dict[str, Any]:
        candidate = RoutingCandidate.model_validate(request.candidate)
        since = now() - timedelta(days=request.days)
        progress(0, 0)
        history = read_history(request.tenant, since, lambda read: progress(0, 0))
        store = store_window(live, request.tenant, since)
        report = replay_window(request.tenant, history, store, candidate, digests, progress)
        return {"days": request.days, "since": since.isoformat()} | report

    return replay


def desk_replay(settings: Settings, live: Routing | None = None) -> Callable[[WhatIfRequest, Progress], dict[str, Any]]:
    """The `Replay` of routing's what-if on the desk `settings` describe: routing's store (`live`, only read)
    and the tickets', SLA clocks' and routing decisions' topics."""
    live = live or Routing(env=store_env(settings, Routing.name))
    topics = [settings.kafka_name(topic) for topic in (TICKETS, SLA_CLOCKS, ROUTING_DECISIONS)]

    def read_history(tenant: str, since: datetime, read: Callable[[int], None]) -> list[TypedEnvelope]:
        return tenant_history(settings.kafka_bootstrap_servers, topics, tenant, since, progress=read)

    return replay_from(live, read_history, KeywordDigests(settings.keyword_secret.encode()))


def mount_what_if(app: FastAPI, routing: Routing, settings: Settings, owner: str) -> WhatIfJobs:
    """`/v1/routing/what-if` on `app`: candidate rule sets replayed as jobs of routing's store."""
    recorder = tracking_recorder(settings, Routing.name)
    replay, check = desk_replay(settings, routing), candidate_check(RoutingCandidate)
    return mount_jobs(app, recorder, "routing", owner, "/v1/routing/what-if", replay, check, "routing")
