"""The SLA service's application: tenants' calendars and policies, and one clock per ticket.

Reactions to ticket events and timer firings are decided on fresh state and recorded
by `commit` (with the upstream tracking row where there is one); lost races retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate
from eventsourcing.persistence import Tracking

from services.chassis.domain.admin_changes import AdminChange, admin_changes
from services.chassis.storage.processing import ProcessRecorderMixin, UnitOfWork, commit
from services.chassis.storage.processing import as_of as replayed
from services.chassis.storage.store import CACHED
from services.sla.clock import Clock
from services.sla.policies import SlaSetup, UnknownError


class Sla(ProcessRecorderMixin, Application[UUID]):
    name = "sla"
    # Cached aggregates are fast-forwarded from the store on every get: no stale reads.
    env: ClassVar[dict[str, str]] = CACHED  # the desk sets its size: Settings.aggregate_cache_size
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {SlaSetup: 100}

    def run(self, decide: Callable[[UnitOfWork], None], tracking: Tracking | None = None) -> None:
        def attempt() -> Iterable[Aggregate]:
            work = UnitOfWork(self)
            decide(work)
            return work.changed()

        commit(self, attempt, tracking)

    # -- setup ---------------------------------------------------------------------------

    def _setup_command(self, tenant: str, command: Callable[[SlaSetup], None]) -> None:
        def decide(work: UnitOfWork) -> None:
            setup = work.get(SlaSetup.create_id(tenant), SlaSetup) or work.add(SlaSetup(tenant))
            command(setup)

        self.run(decide)

    # `by`: the admin who changes the setup (their token's subject), recorded on each change.

    def define_calendar(self, tenant: str, calendar_id: str, spec: dict[str, Any], by: str = "") -> None:
        self._setup_command(tenant, lambda setup: setup.define_calendar(calendar_id, spec, by))

    def define_policy(self, tenant: str, policy: dict[str, Any], by: str = "") -> None:
        self._setup_command(tenant, lambda setup: setup.define_policy(policy, by))

    def retire_policy(self, tenant: str, policy_id: str, by: str = "") -> None:
        self._setup_command(tenant, lambda setup: setup.retire_policy(policy_id, by))

    def reorder_policies(self, tenant: str, policy_ids: list[str], by: str = "") -> None:
        self._setup_command(tenant, lambda setup: setup.reorder_policies(policy_ids, by))

    def setup_changes(self, tenant: str, kinds: tuple[type[AdminChange], ...], limit: int) -> list[dict[str, Any]]:
        """The newest `limit` changes of `kinds` (calendars' or policies'), newest first, each with its admin."""
        return admin_changes(self.events.get(self.setup(tenant).id, desc=True), kinds, limit)

    def setup(self, tenant: str, as_of: datetime | None = None) -> SlaSetup:
        """The tenant's setup now, or as it was at `as_of`."""
        setup_id = SlaSetup.create_id(tenant)
        setup = UnitOfWork(self).get(setup_id, SlaSetup) if as_of is None else replayed(self, setup_id, as_of)
        if not isinstance(setup, SlaSetup):
            raise UnknownError(f"no SLA setup for tenant {tenant!r}: define a calendar or policy first")
        return setup

    # -- clocks ----------------------------------------------------------------------------

    def clock(self, tenant: str, ticket_id: UUID) -> Clock:
        clock = UnitOfWork(self).get(ticket_id, Clock)
        if clock is None or clock.tenant != tenant:
            raise UnknownError(f"no SLA clock for ticket {ticket_id}", "ticket_id")
        return clock

    def fire(self, clock_ids: list[UUID], now: datetime) -> list[Any]:
        """Fire the clocks due by `now`, in one transaction; the events they recorded."""
        fired: list[Any] = []

        def decide(work: UnitOfWork) -> None:
            fired.clear()
            work.preload(clock_ids)  # every clock in one or two round trips, not one or three each
            for clock_id in clock_ids:
                clock = work.get(clock_id, Clock)
                if clock is not None:
                    clock.fire(now)
                    fired.extend(clock.pending_events)

        self.run(decide)
        return fired
