"""One replay of a window's ticket events through SLA's live code, in memory: the clocks `react`
(reactions.py) opens and moves, fired on their due instants as the scheduler fires them, and what each
target did (its runs: started, due, warned, breached, met).

Nothing here touches the store or a topic: the sandbox is the unit of work `react` reads and changes."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from schemas.envelope import Envelope, EnvelopeContext, EventData
from services.chassis.storage.processing import UnitOfWork
from services.sla.clock import Clock
from services.sla.policies import SlaSetup
from services.sla.reactions import react
from services.sla.what_if.setups import SetupHistory

A = TypeVar("A", bound=Aggregate)


@dataclass
class Run:
    """One run of a target on a ticket: from its start to its end (met, stopped, or the window's end)."""

    policy_id: str
    priority: str  # the ticket's when the run last moved: the priority its target was chosen by
    started_at: datetime
    target: int
    due_at: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    warned: dict[int, datetime] = field(default_factory=dict)  # threshold (%) -> when


class Sandbox(UnitOfWork):
    def __init__(self, setups: SetupHistory) -> None:  # no application: nothing is loaded or saved
        self.loaded: dict[UUID, Aggregate] = {}
        self.shared: dict[UUID, int] = {}
        self.absent: set[UUID] = set()
        self.setups = setups
        self.setup: SlaSetup | None = None
        self.due: list[tuple[datetime, UUID]] = []  # (due instant, clock): the scheduler's timers
        self.runs: dict[tuple[str, str], list[Run]] = {}  # (ticket, target) -> its runs, in order

    def get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        found: Any = self.setup if kind is SlaSetup else self.loaded.get(aggregate_id)
        return found if isinstance(found, kind) else None

    def apply(self, envelope: EnvelopeContext, data: EventData) -> None:
        """A ticket event, at its instant: what fell due before it first, then the live reaction."""
        self.fire_until(envelope.occurred_at)
        self.setup = self.setups.at(envelope.occurred_at)
        react(self, _as_published(envelope), data)
        ticket_id = getattr(data, "ticket_id", None)
        if ticket_id is not None and isinstance(clock := self.loaded.get(_uuid(ticket_id)), Clock):
            self._collect(clock)

    def fire_until(self, instant: datetime) -> None:
        """Fire every clock due by `instant`, each at its due instant, in the order they fall due."""
        while self.due and self.due[0][0] <= instant:
            due_at, clock_id = heapq.heappop(self.due)
            clock = self.loaded.get(clock_id)
            if isinstance(clock, Clock) and clock.due_at == due_at:
                clock.fire(due_at)
                self._collect(clock)

    def _collect(self, clock: Clock) -> None:
        scheduled = False
        priority = str(clock.facts.get("priority") or "")
        for collected in clock.collect_events():
            event: Any = collected
            name = type(event).__name__
            scheduled |= name == "Scheduled"
            if (metric := getattr(event, "metric", None)) is None:
                continue
            runs = self.runs.setdefault((str(clock.id), metric), [])
            if name == "MetricStarted":
                runs.append(Run(clock.policy_id, priority, event.at, event.target, event.due_at))
                continue
            if not runs:
                continue
            run = runs[-1]
            run.policy_id, run.priority, run.target = clock.policy_id, priority, event.target
            if event.due_at is not None and run.breached_at is None:  # a breached run was due when it burned
                run.due_at = event.due_at
            if name == "MetricMet":
                run.met_at = event.at
            elif name == "Breached":
                run.breached_at = run.due_at = event.at
            elif name == "Warned":
                run.warned[event.threshold] = event.at
        if scheduled and clock.due_at is not None:
            heapq.heappush(self.due, (clock.due_at, clock.id))


def _as_published(envelope: EnvelopeContext) -> Envelope:
    """The envelope `react` takes (it reads the instant and the tenant, never the raw data), unvalidated:
    history has validated it."""
    return Envelope.model_construct(**{name: getattr(envelope, name) for name in CONTEXT}, data={})


CONTEXT = tuple(EnvelopeContext.model_fields)


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        return UUID(int=0)
