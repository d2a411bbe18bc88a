"""The rules service's application: a tenant's triggers (made, revised, ordered, enabled, disabled, retired)
and, for every public event of a ticket, the triggers that fire on it.

Each command decides on fresh state in one unit of work and records every change in one transaction; a
reaction records its event's tracking row with it (exactly once: a redelivery finds the row).

Firing. For an event a trigger may answer (facts.when_of), the tenant's live triggers run in the book's
order; each that answers the event and whose conditions hold fires: a `TicketAutomation.Fired` fact naming
the trigger's version, the event, the reason in words and the actions, published on `rules.actions` for
intake to carry out. A later trigger sees the facts as the earlier firings will leave them (facts.
after_actions), as a support team reading the list top to bottom expects ("set P1" then "if P1, tag vip").

Loop protection. Intake applies a firing under the firing's correlation id, which is the correlation id of
the event that fired it; so every event a chain of firings causes shares the chain's correlation id. A
trigger fires at most once per chain on a ticket: A (set high on priority change) and B (set back on
priority change) each fire once and the chain stops, however the loop is built. A customer's next comment,
an agent's next change or an SLA clock starts a new chain, where each may fire again.

Refused actions. The actions are checked when the trigger is saved as far as the rules service knows them
(requests.py: statuses, priorities, names). What only intake knows (custom fields, macros, its rendering
sandbox) intake checks when it applies the firing: a refused firing changes nothing and intake records
`ticket.trigger_refused`; when the trigger itself is at fault (`for_good`) the rules service disables it with
the refusal as the reason (an admin sees it on the trigger, fixes it and enables it). The other triggers
fire on.

Timed triggers (`when: ["time"]`, timing.py). Whenever an event changes a ticket's facts, the service computes
for each live timed trigger of the tenant the instant it falls due for the ticket and keeps it on the ticket
(`TicketAutomation.schedule`): recorded in the transaction that learns the facts and tracks the event, so
exactly once; a change that makes it moot (the customer was answered, the status moved) moves or drops it.
The scheduler (timed.py) calls `fire_timers` on the instant: the timer must still be the ticket's, its due
instant is computed again on the current facts and trigger (a revised trigger or a fact not yet seen moves it
rather than firing early), and the conditions are checked at that instant. Each firing's id derives from
(ticket, trigger, due instant), and the timer is spent in the same transaction: once, whoever fires it. A timed
firing starts a chain of its own (its id is its correlation id), where loop protection works as for events.
A timed trigger made, revised or enabled is scheduled at once for every ticket the service knows that is not
closed (`schedule_existing`, a sweep after the trigger's own transaction, a hundred tickets a transaction): each
ticket's timer is set from its facts as any fact change would set it, so the sweep is idempotent (a timer already
at its instant records nothing, one spent at it is not set again) and races with the consumer are retried on fresh
state. A sweep cut short (the process stopped) is finished by the next save or enabling of the trigger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from schemas.envelope import Envelope, EventData
from schemas.rules import RULES_ACTOR
from schemas.tickets import TicketTriggerRefusedV1
from services.chassis.http.problems import DomainProblem
from services.chassis.runtime.errors import UnknownThingError
from services.chassis.storage.ids import stable_id
from services.chassis.storage.processing import ProcessRecorderMixin, UnitOfWork, commit
from services.chassis.storage.store import CACHED
from services.rules import conditions
from services.rules.conditions import Condition, Match
from services.rules.domain import TicketAutomation, Trigger, TriggerBook, TriggerFirings
from services.rules.facts import after_actions, folded, moments_of, ticket_of, when_of
from services.rules.timing import TIME_WHEN, due_epoch, is_timed, stamped

Cause = dict[str, str]
STARTED = get_topic(TicketAutomation.Started)  # type: ignore[attr-defined]
SWEEP_CHUNK = 100  # tickets a transaction when a timed trigger is scheduled for the tickets the service knows


class StaleTriggerError(DomainProblem):
    status = 412
    title = "Precondition failed"


class Rules(ProcessRecorderMixin, Application[UUID]):
    name = "rules"
    env: ClassVar[dict[str, str]] = CACHED  # the desk sets its size: Settings.aggregate_cache_size
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {
        TriggerBook: 100,
        TicketAutomation: 100,
    }

    def _run(self, decide: Callable[[UnitOfWork], Iterable[Aggregate]], tracking: Tracking | None = None) -> None:
        commit(self, lambda: decide(UnitOfWork(self)), tracking)

    # -- the admin's commands --------------------------------------------------------

    def create_trigger(self, tenant: str, spec: dict[str, Any], by: str) -> Trigger:
        made: list[Trigger] = []

        def decide(work: UnitOfWork) -> list[Aggregate]:
            book = work.get(TriggerBook.create_id(tenant), TriggerBook) or work.add(TriggerBook(tenant))
            trigger = Trigger(tenant, spec, by)
            book.add(str(trigger.id))
            made[:] = [trigger]
            return [book, trigger]

        self._run(decide)
        self.schedule_existing(made[0])
        return made[0]

    def change_trigger(
        self, tenant: str, trigger_id: UUID, change: Callable[[Trigger], None], expected_version: int | None
    ) -> Trigger:
        """Run `change` on the trigger (412 when `expected_version` is not its version)."""
        changed: list[Trigger] = []

        def decide(work: UnitOfWork) -> list[Aggregate]:
            trigger = self._own(work, tenant, trigger_id)
            if expected_version is not None and trigger.version != expected_version:
                raise StaleTriggerError(
                    f"the trigger is at version {trigger.version}, not {expected_version}: read it again",
                    field="If-Match",
                )
            change(trigger)
            changed[:] = [trigger]
            touched: list[Aggregate] = [trigger]
            if trigger.retired:
                book = work.get(TriggerBook.create_id(tenant), TriggerBook)
                if book is not None and str(trigger.id) in book.trigger_ids:
                    book.remove(str(trigger.id))
                    touched.append(book)
            return touched

        self._run(decide)
        self.schedule_existing(changed[0])
        return changed[0]

    def reorder(self, tenant: str, trigger_ids: list[str], by: str) -> None:
        def decide(work: UnitOfWork) -> list[Aggregate]:
            book = work.get(TriggerBook.create_id(tenant), TriggerBook) or work.add(TriggerBook(tenant))
            book.reorder(trigger_ids, by)
            return [book]

        self._run(decide)

    # -- reading -----------------------------------------------------------------------

    def trigger(self, tenant: str, trigger_id: UUID) -> Trigger:
        return self._own(UnitOfWork(self), tenant, trigger_id)

    def triggers(self, tenant: str) -> list[Trigger]:
        """The tenant's triggers in the order they run (a tenant has tens: read from the cache)."""
        work = UnitOfWork(self)
        book = work.get(TriggerBook.create_id(tenant), TriggerBook)
        if book is None:
            return []
        return work.get_many([UUID(t) for t in book.trigger_ids], Trigger)

    def versions(self, tenant: str, trigger_id: UUID) -> list[Any]:
        self.trigger(tenant, trigger_id)
        return list(self.events.get(trigger_id))

    def firings(self, tenant: str, trigger_id: UUID, limit: int) -> list[dict[str, Any]]:
        """The trigger's last `limit` firings, newest first."""
        self.trigger(tenant, trigger_id)
        log_id = TriggerFirings.create_id(str(trigger_id))
        events: list[Any] = list(self.events.get(log_id, desc=True, limit=limit + 1))
        return [e.firing | {"at": e.timestamp.isoformat()} for e in events if hasattr(e, "firing")][:limit]

    # -- reactions (the consumer) --------------------------------------------------------

    def react(self, envelope: Envelope, data: EventData, tracking: Tracking) -> None:
        """Learn the ticket's facts from the event and fire the triggers that answer it, with `tracking`."""
        ticket_id = ticket_of(data)
        if ticket_id is None:
            return  # nothing about a ticket: nothing to record (a redelivery is as harmless)
        tenant = envelope.tenant
        cause = {"correlation_id": envelope.correlation_id, "causation_id": str(envelope.id)}
        cause |= {"traceparent": envelope.traceparent} if envelope.traceparent else {}

        def decide(work: UnitOfWork) -> list[Aggregate]:
            if isinstance(data, TicketTriggerRefusedV1):
                self._refused(work, tenant, data)
            automation = work.get(TicketAutomation.create_id(tenant, ticket_id), TicketAutomation)
            if automation is None:
                if data.event_type != "ticket.opened":
                    return []  # a ticket opened before the rules service ran: it knows too little to judge
                if getattr(data, "imported_from", None) is not None:
                    return []  # imported from another desk with its history: no trigger acts on that history
                automation = work.add(TicketAutomation(tenant, ticket_id))
            before = dict(automation.facts)
            automation.learn(stamped(folded(before, data), moments_of(data, before), envelope.occurred_at))
            when = when_of(data, automation.facts)
            if when is not None:
                self._fire(work, automation, before, when, envelope, cause)
            if automation.facts != before:
                self._schedule(work, automation)
            return work.changed()

        self._run(decide, tracking)

    def _fire(
        self,
        work: UnitOfWork,
        automation: TicketAutomation,
        before: dict[str, Any],
        when: str,
        envelope: Envelope,
        cause: Cause,
    ) -> None:
        book = work.get(TriggerBook.create_id(automation.tenant), TriggerBook)
        if book is None:
            return
        fired_before = set(automation.fired_in(envelope.correlation_id))
        now = dict(automation.facts)
        for trigger in work.get_many([UUID(t) for t in book.trigger_ids], Trigger):
            spec = trigger.spec
            if not trigger.live or when not in spec["when"] or str(trigger.id) in fired_before:
                continue
            checked = conditions.check(spec["if"])
            at = envelope.occurred_at.timestamp()
            reason = conditions.evaluate(Match(spec["match"]), checked, now, before, at)
            if reason is None:
                continue
            firing_id = stable_id("trigger-firing", automation.ticket_id, str(trigger.id), str(envelope.id))
            self._log_firing(work, automation, trigger, firing_id, when, str(envelope.id), reason, cause)
            fired_before.add(str(trigger.id))
            before, now = now, after_actions(now, spec["then"])

    @staticmethod
    def _log_firing(
        work: UnitOfWork,
        automation: TicketAutomation,
        trigger: Trigger,
        firing_id: str,
        when: str,
        event_id: str,
        reason: str,
        cause: Cause,
    ) -> None:
        """Record one firing: on the ticket (published) and in the trigger's log."""
        spec = trigger.spec
        firing = {
            "firing_id": firing_id,
            "ticket_id": automation.ticket_id,
            "trigger_version": trigger.version,
            "event": when,
            "event_id": event_id,
            "reason": reason,
            "actions": spec["then"],
        }
        log = work.get(TriggerFirings.create_id(str(trigger.id)), TriggerFirings)
        log = log or work.add(TriggerFirings(automation.tenant, str(trigger.id)))
        log.log(firing)
        automation.fire(
            tenant=automation.tenant,
            ticket_id=automation.ticket_id,
            firing_id=firing_id,
            trigger_id=str(trigger.id),
            trigger_version=trigger.version,
            trigger_name=spec["name"],
            event_type_seen=when,
            event_id=event_id,
            reason=reason,
            actions=spec["then"],
            cause=cause,
        )

    # -- timed triggers ----------------------------------------------------------------

    @staticmethod
    def _due(trigger: Trigger, automation: TicketAutomation) -> float | None:
        """When the live timed `trigger` falls due for the ticket on its facts now, not counting an instant it
        fired at already (None: not timed, not live, moot)."""
        spec = trigger.spec
        if not trigger.live or not is_timed(spec):
            return None
        others: list[Condition] = [c for c in conditions.check(spec["if"]) if c.of is None]
        facts = automation.facts
        others_hold = conditions.evaluate(Match.ALL, others, facts, facts) is not None
        due = due_epoch(spec, facts, others_hold)
        return None if due is not None and automation.spent.get(str(trigger.id)) == due else due

    def _schedule(self, work: UnitOfWork, automation: TicketAutomation) -> None:
        """Move, set or drop the ticket's timer of every timed trigger of the tenant, on its facts now."""
        book = work.get(TriggerBook.create_id(automation.tenant), TriggerBook)
        trigger_ids = book.trigger_ids if book is not None else []
        due: dict[str, float | None] = dict.fromkeys(automation.timers)
        for trigger in work.get_many([UUID(t) for t in trigger_ids], Trigger):
            due[str(trigger.id)] = self._due(trigger, automation)
        for trigger_id, instant in due.items():
            automation.schedule(trigger_id, instant)

    def schedule_existing(self, trigger: Trigger, chunk: int = SWEEP_CHUNK) -> int:
        """Set the live timed `trigger`'s timer on each of its tenant's tickets that is not closed, as a change of
        their facts would (nothing for another trigger); how many tickets were looked at."""
        if not trigger.live or not is_timed(trigger.spec):
            return 0
        automation_ids = self._automations_of(trigger.tenant)

        def decide(ids: list[UUID]) -> Callable[[UnitOfWork], list[Aggregate]]:
            def scheduled(work: UnitOfWork) -> list[Aggregate]:
                current = work.get(trigger.id, Trigger)
                if current is None or not current.live:
                    return []
                for automation_id in ids:
                    automation = work.get(automation_id, TicketAutomation)
                    if automation is not None and automation.facts.get("status") not in (None, "closed"):
                        automation.schedule(str(trigger.id), self._due(current, automation))
                return work.changed()

            return scheduled

        for start in range(0, len(automation_ids), chunk):
            self._run(decide(automation_ids[start : start + chunk]))
        return len(automation_ids)

    def _automations_of(self, tenant: str) -> list[UUID]:
        """The tenant's tickets the service knows (each ticket's `Started`, read from the notification log)."""
        found: list[UUID] = []
        start: int | None = None
        while True:
            page = self.recorder.select_notifications(start, 1000, topics=[STARTED], inclusive_of_start=False)
            for notification in page:
                started = self.mapper.to_domain_event(notification)
                if getattr(started, "tenant", None) == tenant:
                    found.append(UUID(str(notification.originator_id)))
            if len(page) < 1000:
                return found
            start = page[-1].id

    def fire_timers(self, keys: list[str], now: datetime) -> bool:
        """Fire the timers `keys` (timed.timer_key) due by `now`, in one transaction; whether anything was
        recorded (nothing: the timers table is behind the tickets, it catches up)."""
        recorded: list[bool] = []

        def decide(work: UnitOfWork) -> list[Aggregate]:
            recorded.clear()
            for key in keys:
                automation_id, trigger_id = key.split("/")
                automation = work.get(UUID(automation_id), TicketAutomation)
                if automation is not None:
                    self._ring(work, automation, trigger_id, now.timestamp())
            changed = work.changed()
            recorded.append(bool(changed))
            return changed

        self._run(decide)
        return bool(recorded and recorded[0])

    def _ring(self, work: UnitOfWork, automation: TicketAutomation, trigger_id: str, now: float) -> None:
        due = automation.timers.get(trigger_id)
        if due is None or due > now:
            return  # spent, moved or dropped since the table read it
        trigger = work.get(UUID(trigger_id), Trigger)
        current = self._due(trigger, automation) if trigger is not None else None
        if trigger is None or current != due:
            automation.schedule(trigger_id, current)  # revised, disabled or moot: later, or never
            return
        spec = trigger.spec
        reason = conditions.evaluate(Match(spec["match"]), conditions.check(spec["if"]), automation.facts, {}, now)
        automation.spend(trigger_id, due)
        if reason is None:
            return
        firing_id = stable_id("trigger-firing", automation.ticket_id, trigger_id, TIME_WHEN, repr(due))
        cause = {"correlation_id": firing_id, "causation_id": firing_id}
        self._log_firing(work, automation, trigger, firing_id, TIME_WHEN, f"{TIME_WHEN}:{due!r}", reason, cause)

    @staticmethod
    def _refused(work: UnitOfWork, tenant: str, data: TicketTriggerRefusedV1) -> None:
        """A firing intake refused for good disables its trigger, naming why; unless an admin revised the trigger
        since that version (the revision may be the fix), or it is off already."""
        trigger = work.get(UUID(data.trigger_id), Trigger)
        if trigger is None or trigger.tenant != tenant or not trigger.live:
            return
        if trigger.version != data.trigger_version:
            return
        trigger.disable(f"refused on ticket {data.ticket_id}: {data.refusal}", RULES_ACTOR)

    def _own(self, work: UnitOfWork, tenant: str, trigger_id: UUID) -> Trigger:
        trigger = work.get(trigger_id, Trigger)
        if trigger is None or trigger.tenant != tenant:
            raise UnknownThingError(f"no trigger {trigger_id} for this tenant", field="trigger_id")
        return trigger
