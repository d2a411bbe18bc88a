"""One ticket's SLA clock: a target per metric, counted in the policy's business time.

- first_response starts when the ticket opens and is met by the first public reply
  of the desk's staff (a colleague of the requester's, or an outsider, answers nothing);
- next_response starts at each customer message after that and is met by the next
  agent reply;
- resolution starts when the ticket opens, is met when it is resolved, and resumes
  (keeping the time already used) when it is reopened.

While the ticket waits on the customer every running target is paused; it resumes
when the customer answers or the pending time ends, when the customer is reminded.
After the policy's number of reminders the clock declares the customer unresponsive
and intake resolves the ticket. A priority change re-targets the clock: the new
target counts from the ticket's start, so the business time already used stays.

Every command first records what fell due before its instant (warnings, breaches, the end of a
pending time), as the scheduler would have in time: the clocks a consumer computes catching up after
an outage are the clocks of one that kept up, however late the scheduler.

Commands compute (business time, due instants) and record the results as facts;
mutators only assign, so replays never depend on the calendar code. Every command
ends by recording the clock's next due instant (`Scheduled`) when it moved: the
scheduler fires the clock then, and never polls.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.domain.copy_on_write import CopyOnWrite
from services.sla import clock_events
from services.sla.clock_readings import MET, PAUSED, RUNNING, STOPPED, ClockReadings
from services.sla.shared_policies import shared


class Clock(CopyOnWrite, ClockReadings, Aggregate):
    """(Its events assign new dicts and lists, never change one in place: `_set`; so copies share them.)"""

    class Event(clock_events.ClockEvent):
        """Every event of a clock (clock_events.py); each is named here, which gives it its stored topic."""

    MetricChanged = clock_events.MetricChanged
    MetricStarted = clock_events.MetricStarted
    MetricPaused = clock_events.MetricPaused
    MetricResumed = clock_events.MetricResumed
    MetricMet = clock_events.MetricMet
    MetricStopped = clock_events.MetricStopped
    Warned = clock_events.Warned
    Breached = clock_events.Breached
    Reminded = clock_events.Reminded
    Unresponsive = clock_events.Unresponsive
    Retargeted = clock_events.Retargeted
    MetricRetargeted = clock_events.MetricRetargeted
    PendingSet = clock_events.PendingSet
    PendingEnded = clock_events.PendingEnded
    AssignmentFollowed = clock_events.AssignmentFollowed
    Scheduled = clock_events.Scheduled

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        super().trigger_event(event_class, tenant=self.tenant, policy_id=self.policy["policy_id"], **kwargs)

    @event("Started")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        policy_id: str,
        policy: dict[str, Any],
        requester_id: str,
        opened_at: datetime,
        facts: dict[str, str | None],
    ) -> None:
        """`facts`: the ticket's priority, category and organisation, by which `policy` was chosen."""
        self.tenant = sys.intern(tenant)
        self.facts = shared(facts)
        self.policy = shared(policy)
        self.requester_id = requester_id
        self.opened_at = opened_at
        self.metrics: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, Any] | None = None  # {"until": datetime, "sent": reminders so far}
        self.due_at: datetime | None = None

    # -- commands (each at the instant its cause happened) ---------------------------------

    def start_metric(self, metric: str, at: datetime) -> None:
        self._fire(at)
        target = self.policy["targets"].get(metric)
        current = self.metrics.get(metric)
        if not target or (current is not None and current["state"] in (RUNNING, PAUSED)):
            return
        self._metric_started(
            metric=metric, at=at, target=int(target), used=0.0, due_at=self.calendar.add_business_time(at, target)
        )
        if self.pending is not None:
            self._metric_paused(metric=metric, at=at, target=int(target), used=0.0, due_at=self.due_of(metric, at))
        self._reschedule()

    @event(MetricStarted)
    def _metric_started(self, metric: str, at: datetime, target: int, used: float, due_at: datetime | None) -> None:
        started = {"target": target, "used": used, "since": at, "state": RUNNING, "warned": [], "breached": False}
        self.metrics = self.metrics | {sys.intern(metric): started}

    def pause(self, at: datetime) -> None:
        self._fire(at)
        for metric, m in self.metrics.items():
            if m["state"] == RUNNING:
                self._metric_paused(
                    metric=metric,
                    at=at,
                    target=m["target"],
                    used=self.used_at(metric, at),
                    due_at=self.due_of(metric, at),
                )
        self._reschedule()

    @event(MetricPaused)
    def _metric_paused(self, metric: str, at: datetime, target: int, used: float, due_at: datetime | None) -> None:
        self._set(metric, used=used, since=None, state=PAUSED)

    def resume(self, at: datetime) -> None:
        for metric, m in self.metrics.items():
            if m["state"] == PAUSED:
                self._metric_resumed(
                    metric=metric, at=at, target=m["target"], used=m["used"], due_at=self.due_of(metric, at)
                )
        self._reschedule()

    @event(MetricResumed)
    def _metric_resumed(self, metric: str, at: datetime, target: int, used: float, due_at: datetime | None) -> None:
        self._set(metric, since=at, state=RUNNING)

    def meet(self, metric: str, at: datetime) -> None:
        m = self.metrics.get(metric)
        if m is None or m["state"] not in (RUNNING, PAUSED):
            return
        self._fire(at)  # a warning or breach that fell due before is recorded first
        m = self.metrics[metric]
        self._metric_met(
            metric=metric,
            at=at,
            target=m["target"],
            used=self.used_at(metric, at),
            due_at=self.due_of(metric, at),
            breached=m["breached"],
        )
        self._reschedule()

    @event(MetricMet)
    def _metric_met(
        self, metric: str, at: datetime, target: int, used: float, due_at: datetime | None, breached: bool
    ) -> None:
        self._set(metric, used=used, since=None, state=MET)

    def resolve(self, at: datetime) -> None:
        """Resolution is met; response targets still open stop (nobody owes an answer now)."""
        self._fire(at)
        self.end_pending()
        self.meet("resolution", at)
        for metric, m in self.metrics.items():
            if m["state"] in (RUNNING, PAUSED):
                self._metric_stopped(
                    metric=metric, at=at, target=m["target"], used=self.used_at(metric, at), due_at=None
                )
        self._reschedule()

    @event(MetricStopped)
    def _metric_stopped(self, metric: str, at: datetime, target: int, used: float, due_at: datetime | None) -> None:
        self._set(metric, used=used, since=None, state=STOPPED)

    def reopen(self, at: datetime) -> None:
        """Resolution counts on from the business time it had used."""
        self._fire(at)
        m = self.metrics.get("resolution")
        if m is not None and m["state"] in (MET, STOPPED):
            due_at = self.calendar.add_business_time(at, max(0.0, m["target"] - m["used"]))
            self._metric_resumed(metric="resolution", at=at, target=m["target"], used=m["used"], due_at=due_at)
        self._reschedule()

    def retarget(self, policy: dict[str, Any], facts: dict[str, str | None], at: datetime) -> None:
        """A new policy (e.g. the priority changed): targets count from the ticket's start."""
        self._fire(at)
        self.trigger_event(self.Retargeted, policy=policy, at=at, facts=facts)
        for metric, m in self.metrics.items():
            if m["state"] in (RUNNING, PAUSED) and not policy["targets"].get(metric):
                self._metric_stopped(
                    metric=metric, at=at, target=m["target"], used=self.used_at(metric, at), due_at=None
                )
            elif m["state"] in (RUNNING, PAUSED):
                self._metric_started_again(metric, at)
        self._reschedule()

    def _metric_started_again(self, metric: str, at: datetime) -> None:
        """The same metric under its new target: time used and warnings passed are kept."""
        m = self.metrics[metric]
        target = int(self.policy["targets"][metric])
        used = self.used_at(metric, at)
        warned = [t for t in m["warned"] if used >= target * t / 100]
        self.trigger_event(
            self.MetricRetargeted,
            metric=metric,
            at=at,
            target=target,
            used=used,
            warned=warned,
            running=m["state"] == RUNNING,
            due_at=self.due_of(metric, at),
        )

    def mark_pending(self, until: datetime, at: datetime) -> None:
        """The ticket waits on the customer until `until`: targets pause, reminders follow. A pending
        time that ends before it begins (intake refuses one, but a ticket event is a fact, and a clock
        resumed in the past would count the years since as business time) pauses nothing: the
        desk's clock runs on, as when the customer answers."""
        if until <= at:
            self.customer_answered(at)
            return
        self.pause(at)
        self.trigger_event(self.PendingSet, until=until, at=at)
        self._reschedule()

    def customer_answered(self, at: datetime) -> None:
        self._fire(at)
        self.end_pending()
        self.resume(at)

    group_id: str | None = None  # who holds the ticket, so agents see only the clocks of tickets they may see
    agent_id: str | None = None  # (clocks and snapshots from before they were followed lack both)

    def follow_assignment(self, group_id: str | None, agent_id: str | None) -> None:
        if (group_id, agent_id) != (self.group_id, self.agent_id):
            self.trigger_event(self.AssignmentFollowed, group_id=group_id, agent_id=agent_id)

    def end_pending(self) -> None:
        if self.pending is not None:
            self.trigger_event(self.PendingEnded)

    def fire(self, now: datetime) -> None:
        """Record every warning, breach and reminder due by `now`, each at its own due instant."""
        self._fire(now)
        self._reschedule()

    def _fire(self, now: datetime) -> None:
        """Each reminder in turn, and what its resuming the clock then lets fall due by `now`."""
        self._fire_targets(now)
        while (reminder := self._next_reminder()) is not None and reminder[0] <= now:
            self._remind(*reminder)
            self._fire_targets(now)

    def _fire_targets(self, now: datetime) -> None:
        for metric in list(self.metrics):
            for threshold in sorted(self.policy.get("warn_at", [])):
                m = self.metrics[metric]
                if m["state"] != RUNNING or threshold in m["warned"] or m["breached"]:
                    continue
                instant = self.instant_when(metric, m["target"] * threshold / 100)
                if instant is not None and instant <= now:
                    self._warned(
                        metric=metric,
                        at=instant,
                        target=m["target"],
                        used=m["target"] * threshold / 100,
                        due_at=self.instant_when(metric, m["target"]),
                        threshold=threshold,
                    )
            m = self.metrics[metric]
            if m["state"] == RUNNING and not m["breached"]:
                instant = self.instant_when(metric, m["target"])
                if instant is not None and instant <= now:
                    self._breached(
                        metric=metric, at=instant, target=m["target"], used=float(m["target"]), due_at=instant
                    )

    def _remind(self, at: datetime, sent: int) -> None:
        reminders = self.policy.get("reminders", {})
        count = int(reminders.get("count", 0))
        if sent == 0:
            self.resume(at)  # the pending time ended
        if sent < count:
            every = timedelta(seconds=reminders.get("every_seconds", 0))
            self.trigger_event(self.Reminded, reminder=sent + 1, at=at, next_at=at + every)
        elif count:
            self.trigger_event(self.Unresponsive, reminders=count, at=at)
        else:
            self.trigger_event(self.PendingEnded)

    @event(Warned)
    def _warned(
        self, metric: str, at: datetime, target: int, used: float, due_at: datetime | None, threshold: int
    ) -> None:
        self._set(metric, warned=[*self.metrics[metric]["warned"], threshold])

    @event(Breached)
    def _breached(self, metric: str, at: datetime, target: int, used: float, due_at: datetime | None) -> None:
        self._set(metric, breached=True)

    def _reschedule(self) -> None:
        due = self.next_due()
        if due != self.due_at:
            self.trigger_event(self.Scheduled, due_at=due)

    def _set(self, metric: str, **changes: Any) -> None:
        self.metrics = self.metrics | {metric: self.metrics[metric] | changes}
