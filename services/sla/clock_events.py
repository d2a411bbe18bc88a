"""The facts a `Clock` (clock.py) records about its metrics and its reminders, as declared classes.

The clock names each one (`MetricStarted = clock_events.MetricStarted`...), where eventsourcing makes
it the class it stores, so every event keeps its topic `services.sla.clock:Clock.<Event>`. A metric's
change is assigned by the clock's `@event` method of it; every other event applies itself. A published
one (`publication.py`) is never changed in place: a new field is a new `class_version` with an upcaster.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from services.sla.shared_policies import shared

if TYPE_CHECKING:
    from services.sla.clock import Clock


class ClockEvent(Aggregate.Event):
    """Every event of a clock: for whom, under which policy."""

    tenant: str
    policy_id: str  # the policy in force when it happened


class MetricChanged(ClockEvent):
    metric: str
    at: datetime
    target: int
    used: float
    due_at: datetime | None


class MetricStarted(MetricChanged):
    pass


class MetricPaused(MetricChanged):
    pass


class MetricResumed(MetricChanged):
    pass


class MetricMet(MetricChanged):
    breached: bool


class MetricStopped(MetricChanged):
    pass


class Warned(MetricChanged):
    threshold: int


class Breached(MetricChanged):
    pass


class Reminded(ClockEvent):
    reminder: int
    at: datetime
    next_at: datetime | None

    def apply(self, clock: Clock) -> None:
        assert clock.pending is not None
        clock.pending = clock.pending | {"sent": self.reminder}


class Unresponsive(ClockEvent):
    reminders: int
    at: datetime

    def apply(self, clock: Clock) -> None:
        clock.pending = None


class Retargeted(ClockEvent):
    policy: dict[str, Any]
    at: datetime
    facts: dict[str, str | None]

    def apply(self, clock: Clock) -> None:
        clock.policy = shared(self.policy)
        clock.facts = shared(self.facts)


class MetricRetargeted(ClockEvent):
    """A running or paused metric under a new target: the time used and the warnings passed are kept."""

    metric: str
    at: datetime
    target: int
    used: float
    warned: list[int]
    running: bool
    due_at: datetime | None

    def apply(self, clock: Clock) -> None:
        since = self.at if self.running else None
        clock.metrics = clock.metrics | {
            self.metric: clock.metrics[self.metric]
            | {"target": self.target, "used": self.used, "since": since, "warned": self.warned}
        }


class PendingSet(ClockEvent):
    until: datetime
    at: datetime

    def apply(self, clock: Clock) -> None:
        clock.pending = {"until": self.until, "sent": 0}


class PendingEnded(ClockEvent):
    def apply(self, clock: Clock) -> None:
        clock.pending = None


class AssignmentFollowed(ClockEvent):
    group_id: str | None
    agent_id: str | None

    def apply(self, clock: Clock) -> None:
        clock.group_id = self.group_id
        clock.agent_id = self.agent_id


class Scheduled(ClockEvent):
    """The clock's next due instant: the scheduler fires it then."""

    due_at: datetime | None

    def apply(self, clock: Clock) -> None:
        clock.due_at = self.due_at
