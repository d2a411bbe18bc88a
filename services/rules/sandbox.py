"""A trigger book in a sandbox: the rules service's own application on the in-memory store, fed a tenant's
past events in the order they happened, its timed triggers fired at their instant in replay time.

The deciding code is the live service's (`Rules.react`, `Rules.fire_timers`: conditions.py, facts.py,
timing.py); only the store (memory) and the clock (the events' instants) differ. Nothing here reaches the
live store or a topic.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope
from schemas.registry import TypedEnvelope, upcast
from services.chassis.storage.processing import UnitOfWork, commit
from services.chassis.whatif.replay import SANDBOX
from services.rules.application import Rules
from services.rules.domain import TicketAutomation, Trigger, TriggerBook
from services.rules.facts import after_actions, ticket_of
from services.rules.timed import timer_key
from services.rules.timing import as_instant, is_timed

SANDBOX_ACTOR = "system:what-if"


@dataclass(frozen=True)
class BookEntry:
    """One trigger of a book to replay: its id on the live desk (the sandbox's own differs), spec, and
    whether it fires (enabled and not retired)."""

    trigger_id: str
    spec: dict[str, Any]
    live: bool = True


@dataclass(frozen=True)
class Firing:
    ticket_id: str
    trigger_id: str  # the live desk's id
    trigger_name: str
    event_type_seen: str
    event_id: str  # the envelope id that fired it, or `time:<due>` for a timed firing
    reason: str
    actions: dict[str, Any]
    at: datetime  # the replay instant it fired at

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.ticket_id, self.trigger_id, self.event_id)


class Sandbox:
    def __init__(self, tenant: str, book: list[BookEntry]) -> None:
        self.tenant = tenant
        self.rules = Rules(env=SANDBOX)
        self.live_id: dict[str, str] = {}  # sandbox trigger id -> live trigger id
        self.positions = itertools.count(1)
        self.read_up_to = 0
        self.timers: list[tuple[float, str]] = []  # (due epoch, timer key): a heap
        self.queued: set[tuple[float, str]] = set()
        self.timed = any(entry.live and is_timed(entry.spec) for entry in book)  # else no ticket has a timer
        self._seed(book)

    def _seed(self, book: list[BookEntry]) -> None:
        shelf = TriggerBook(self.tenant)
        triggers: list[Trigger] = []
        for entry in book:
            trigger = Trigger(self.tenant, entry.spec, SANDBOX_ACTOR)
            if not entry.live:
                trigger.disable("not live on the desk", SANDBOX_ACTOR)
            shelf.add(str(trigger.id))
            self.live_id[str(trigger.id)] = entry.trigger_id
            triggers.append(trigger)
        self.rules.save(shelf, *triggers)
        self.read_up_to = self.rules.recorder.max_notification_id() or 0

    def play(self, envelope: TypedEnvelope) -> list[Firing]:
        """Fire the timers due before `envelope`, then react to it as the live consumer does; the firings."""
        rung = self.ring_until(envelope.occurred_at.timestamp())
        data = upcast(envelope.data)
        # the live consumer's envelope, read as one: react reads its context attributes only
        self.rules.react(cast(Envelope, envelope), data, Tracking("what-if", next(self.positions)))
        if (ticket_id := ticket_of(data)) is not None:
            self._queue_timers(ticket_id)
        return rung + self._new_firings(envelope.occurred_at)

    def ring_until(self, epoch: float) -> list[Firing]:
        """Fire every timer due before `epoch`, each at its own instant (and what that schedules anew)."""
        fired: list[Firing] = []
        while self.timers and self.timers[0][0] < epoch:
            due, key = heapq.heappop(self.timers)
            self.queued.discard((due, key))
            self.rules.fire_timers([key], as_instant(due))
            fired += self._new_firings(as_instant(due))
        return fired

    def carry_out(self, firing: Firing) -> None:
        """What intake's save of `firing` would change in the facts (for a firing the live desk never had, so
        no event of the history carries its effect): later events and triggers see it."""
        automation_id = TicketAutomation.create_id(self.tenant, firing.ticket_id)

        def decide() -> list[Any]:
            work = UnitOfWork(self.rules)
            automation = work.get(automation_id, TicketAutomation)
            if automation is not None:
                before = dict(automation.facts)
                automation.learn(after_actions(before, firing.actions))
                if automation.facts != before:
                    self.rules._schedule(work, automation)  # as `react` does when an event changes the facts
            return work.changed()

        commit(self.rules, decide)
        self._queue_timers(firing.ticket_id)

    def _queue_timers(self, ticket_id: str) -> None:
        if not self.timed:
            return
        automation_id = TicketAutomation.create_id(self.tenant, ticket_id)
        automation = UnitOfWork(self.rules).get(automation_id, TicketAutomation)
        for trigger_id, due in (automation.timers if automation is not None else {}).items():
            entry = (due, timer_key(automation_id, trigger_id))
            if entry not in self.queued:
                self.queued.add(entry)
                heapq.heappush(self.timers, entry)

    def _new_firings(self, at: datetime) -> list[Firing]:
        found: list[Firing] = []
        while notifications := self.rules.recorder.select_notifications(self.read_up_to + 1, 500):
            for notification in notifications:
                self.read_up_to = notification.id
                event: Any = self.rules.mapper.to_domain_event(notification)
                if isinstance(event, TicketAutomation.Fired):  # type: ignore[attr-defined]
                    found.append(self._firing(event, at))
        return found

    def _firing(self, event: Any, at: datetime) -> Firing:
        return Firing(
            ticket_id=event.ticket_id,
            trigger_id=self.live_id.get(event.trigger_id, event.trigger_id),
            trigger_name=event.trigger_name,
            event_type_seen=event.event_type_seen,
            event_id=event.event_id,
            reason=event.reason,
            actions=dict(event.actions),
            at=at,
        )
