"""How a consumer applies a fetched batch of events in one transaction (its `ApplyBatch`).

A service keeps one application method per command (its per-event `Apply`); the chassis makes the
batch of it:
- `in_store`: the reactions `commit` on a process application; the batch's decisions share one
  unit of work and are recorded, with every tracking row, in one transaction (processing.py);
- `in_view`: a read model that applies many events in one transaction of its SQL view
  (`apply_many`, as its rebuild does), after the rows tracked before are set aside.

Either answers the indices of the events it skipped as duplicates (tracked before, or twice in the
batch), and raises to void the batch: the consumer then retries it (the store away) or applies its
events one at a time (to find and halt on a poison event).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Tracking

from schemas.envelope import Envelope, EventData
from services.chassis.runtime import logs
from services.chassis.storage.processing import ATTEMPTS, ContentionError, commit_batch
from services.chassis.storage.views import SqlView

Delivery = tuple[Envelope, EventData, Tracking]
# Stores the effects of one event together with `tracking`, in one transaction;
# raises eventsourcing's IntegrityError when `tracking` was recorded before.
Apply = Callable[[Envelope, EventData, Tracking], None]
# Stores the effects of many events with their tracking rows in one transaction; the indices skipped.
ApplyBatch = Callable[[Sequence[Delivery]], set[int]]


def in_store(
    app: Application[Any], apply: Apply, decides_on: Callable[[Envelope, EventData], UUID | None] | None = None
) -> ApplyBatch:
    """A batch of `apply`, whose `commit`s on `app` are recorded at once. `decides_on` names the aggregate
    an event's decision reads, when it knows: the batch reads them all in one round trip first."""

    def apply_batch(deliveries: Sequence[Delivery]) -> set[int]:
        def run(k: int) -> None:
            envelope, data, tracking = deliveries[k]
            with logs.about(envelope.tenant, envelope.subject, envelope.traceparent):
                apply(envelope, data, tracking)

        def preload(k: int) -> UUID | None:
            envelope, data, _ = deliveries[k]
            return decides_on(envelope, data) if decides_on is not None else None

        trackings = [tracking for _, _, tracking in deliveries]
        return commit_batch(app, trackings, run, preload=preload if decides_on is not None else None)

    return apply_batch


def in_view(view: SqlView, apply_many: Callable[[Sequence[Delivery]], None]) -> ApplyBatch:
    """A batch of `apply_many` on `view`, without the events tracked before."""

    def apply_batch(deliveries: Sequence[Delivery]) -> set[int]:
        for _ in range(ATTEMPTS):
            skipped = view.skipped([tracking for _, _, tracking in deliveries])
            fresh = [delivery for k, delivery in enumerate(deliveries) if k not in skipped]
            try:
                if fresh:
                    apply_many(fresh)
            except IntegrityError:  # another replica applied some meanwhile: set them aside too
                continue
            return skipped
        raise ContentionError(f"{view.name}: gave up on a batch after {ATTEMPTS} conflicting attempts")

    return apply_batch
