"""The facts a `Clock` (clock.py) records about its metrics and its reminders, as declared classes.

The clock names each one (`MetricStarted = clock_events.MetricStarted`...), where eventsourcing makes it
the class it stores, so every event keeps its topic `services.sla.clock:Clock.<Event>`; the clock's
`@event` methods assign what each one says. A published one (`publication.py`) is never changed in
place: a new field is a new `class_version` with an upcaster.
"""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate


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


class Unresponsive(ClockEvent):
    reminders: int
    at: datetime
