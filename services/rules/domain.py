"""The rules service's aggregates. Pure.

`Trigger`: one automation rule of a tenant (name, the events it answers, its conditions, its actions).
Every change is a new version (`Created`, `Revised`, `Disabled`, `Enabled`, `Retired`: read as
`trigger.created`...), and a firing names the version that matched. A retired trigger stays readable by id
with its versions and never fires again.

`TriggerBook`: the order of a tenant's triggers (`Reordered`: `trigger.reordered`). The order is the
book's, not each trigger's position field, so a new order is one event that cannot leave two triggers at
the same place.

`TicketAutomation`: what the rules service knows of one ticket (its facts, folded from public events) and
the triggers that fired on it, each firing a `Fired` fact that the relay publishes as `rules.trigger_fired`;
and its timers: when each timed trigger falls due for it (`Scheduled`, None: no longer), and the due instant
each last fired at (`TimerSpent`), so a trigger fires once per (ticket, trigger, due instant) however many
schedulers try. The timers table (timed.py) is a projection of these two events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.runtime.errors import CommandRefusedError
from services.chassis.storage.ids import stable_uuid

CHAINS_KEPT = 50  # how many of a ticket's latest correlation chains the loop protection remembers


class TriggerRetiredError(CommandRefusedError):
    """A retired trigger is changed no more."""


class Trigger(Aggregate):
    """One trigger; `spec` holds name, when, match, if and then (requests.py checks them)."""

    @event("Created")
    def __init__(self, tenant: str, spec: dict[str, Any], by: str) -> None:
        self.tenant = tenant
        self.spec = dict(spec)
        self.enabled = True
        self.retired = False
        self.disabled_reason: str | None = None

    def revise(self, spec: dict[str, Any], by: str) -> None:
        self._check_live()
        if spec != self.spec:
            self._revised(spec, by)

    def disable(self, reason: str, by: str) -> None:
        self._check_live()
        if self.enabled:
            self._disabled(reason, by)

    def enable(self, by: str) -> None:
        self._check_live()
        if not self.enabled:
            self._enabled(by)

    def retire(self, by: str) -> None:
        self._check_live()
        self._retired(by)

    @property
    def live(self) -> bool:
        """Fires on its events: enabled and not retired."""
        return self.enabled and not self.retired

    def _check_live(self) -> None:
        if self.retired:
            raise TriggerRetiredError(f"trigger {self.id} is retired", field="trigger_id")

    @event("Revised")
    def _revised(self, spec: dict[str, Any], by: str) -> None:
        self.spec = dict(spec)

    @event("Disabled")
    def _disabled(self, reason: str, by: str) -> None:
        self.enabled, self.disabled_reason = False, reason

    @event("Enabled")
    def _enabled(self, by: str) -> None:
        self.enabled, self.disabled_reason = True, None

    @event("Retired")
    def _retired(self, by: str) -> None:
        self.retired = True


class TriggerBook(Aggregate):
    """A tenant's trigger ids, in the order they run (retired ones leave it)."""

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("trigger-book", tenant)

    @event("Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.trigger_ids: list[str] = []

    @event("Added")
    def add(self, trigger_id: str) -> None:
        self.trigger_ids = [*self.trigger_ids, trigger_id]

    @event("Removed")
    def remove(self, trigger_id: str) -> None:
        self.trigger_ids = [t for t in self.trigger_ids if t != trigger_id]

    def reorder(self, trigger_ids: list[str], by: str) -> None:
        """Name every trigger of the book once, first run first."""
        if sorted(trigger_ids) != sorted(self.trigger_ids) or len(set(trigger_ids)) != len(trigger_ids):
            raise CommandRefusedError("name every trigger once, retired ones not at all", field="ids")
        if trigger_ids != self.trigger_ids:
            self._reordered(trigger_ids, by)

    @event("Reordered")
    def _reordered(self, trigger_ids: list[str], by: str) -> None:
        self.trigger_ids = list(trigger_ids)


class TicketAutomation(Aggregate):
    """One ticket as the rules service knows it: facts, the triggers fired in each correlation chain, its timers."""

    @event("Started")
    def __init__(self, tenant: str, ticket_id: str) -> None:
        self.tenant = tenant
        self.ticket_id = ticket_id
        self.facts: dict[str, Any] = {}
        self.chains: dict[str, list[str]] = {}  # correlation id -> trigger ids fired in it, oldest chain first

    @staticmethod
    def create_id(tenant: str, ticket_id: str) -> UUID:
        return stable_uuid("ticket-automation", tenant, ticket_id)

    def learn(self, facts: dict[str, Any]) -> None:
        if facts != self.facts:
            self._learned(facts)

    @event("Learned")
    def _learned(self, facts: dict[str, Any]) -> None:
        self.facts = dict(facts)

    def fired_in(self, correlation_id: str) -> list[str]:
        return self.chains.get(correlation_id, [])

    @event("Fired")
    def fire(
        self,
        tenant: str,
        ticket_id: str,
        firing_id: str,
        trigger_id: str,
        trigger_version: int,
        trigger_name: str,
        event_type_seen: str,
        event_id: str,
        reason: str,
        actions: dict[str, Any],
        cause: dict[str, str],
    ) -> None:
        chain = cause.get("correlation_id", "")
        chains = {k: v for k, v in self.chains.items() if k != chain}
        chains[chain] = [*self.chains.get(chain, []), trigger_id]
        self.chains = dict(list(chains.items())[-CHAINS_KEPT:])

    # Read with a default: a ticket started (or snapshotted) before timed triggers existed has no timers.
    @property
    def timers(self) -> Mapping[str, float]:
        """Trigger id -> due instant (epoch seconds)."""
        timers: Mapping[str, float] = self.__dict__.get("_timers", {})
        return timers

    @property
    def spent(self) -> Mapping[str, float]:
        """Trigger id -> the due instant it last went off at."""
        spent: Mapping[str, float] = self.__dict__.get("_spent_at", {})
        return spent

    def schedule(self, trigger_id: str, due_epoch: float | None) -> None:
        """Keep the timer of `trigger_id` at `due_epoch` (None: drop it); nothing when it is there already."""
        if self.timers.get(trigger_id) != due_epoch:
            self._scheduled(self.tenant, trigger_id, due_epoch)

    @event("Scheduled")
    def _scheduled(self, tenant: str, trigger_id: str, due_epoch: float | None) -> None:
        timers = {k: v for k, v in self.timers.items() if k != trigger_id}
        self._timers = timers | ({trigger_id: due_epoch} if due_epoch is not None else {})

    def spend(self, trigger_id: str, due_epoch: float) -> None:
        """The timer of `trigger_id` due at `due_epoch` went off (fired, or found moot at its instant)."""
        self._spent(self.tenant, trigger_id, due_epoch)

    @event("TimerSpent")
    def _spent(self, tenant: str, trigger_id: str, due_epoch: float) -> None:
        self._timers = {k: v for k, v in self.timers.items() if k != trigger_id}
        self._spent_at = {k: v for k, v in self.spent.items() if k != trigger_id} | {trigger_id: due_epoch}


class TriggerFirings(Aggregate):
    """A trigger's firings, one `Logged` fact each (a copy of the ticket's `Fired`): its last firings are then
    one short read of one stream, not a scan of every ticket's."""

    @staticmethod
    def create_id(trigger_id: str) -> UUID:
        return stable_uuid("trigger-firings", trigger_id)

    @event("Started")
    def __init__(self, tenant: str, trigger_id: str) -> None:
        self.tenant = tenant
        self.trigger_id = trigger_id

    @event("Logged")
    def log(self, firing: dict[str, Any]) -> None:
        pass
