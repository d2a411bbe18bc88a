"""Deciding on fresh state and recording the decision, with its upstream position, at once.

A service that reacts to another's event (routing to `ticket.opened`, intake to
`routing.decided`) must store its new events and the tracking row of the event it
answers in one transaction: then a redelivered event finds its tracking row and
changes nothing, and a crash in between leaves neither. The application's recorder
must be a process recorder (see `ProcessRecorderMixin`).

Two writers deciding on the same aggregate conflict on its version; the loser decides
again on fresh state. Only a tracking row recorded before is reported to the caller,
as eventsourcing's IntegrityError: the consumer counts that as a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, ProcessRecorder, Recording, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder

ATTEMPTS = 50

Decide = Callable[[], Iterable[Any]]  # reads fresh state, runs commands, returns the changed aggregates

A = TypeVar("A", bound=Aggregate)


class UnitOfWork:
    """The aggregates one decision reads and changes, each loaded once (fresh from the store)."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self.loaded: dict[UUID, Aggregate] = {}

    def get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        if aggregate_id not in self.loaded:
            try:
                aggregate: object = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
            if not isinstance(aggregate, kind):
                return None
            self.loaded[aggregate_id] = aggregate
        found = self.loaded[aggregate_id]
        return found if isinstance(found, kind) else None

    def add(self, aggregate: A) -> A:
        self.loaded[aggregate.id] = aggregate
        return aggregate

    def changed(self) -> list[Aggregate]:
        return [a for a in self.loaded.values() if a.pending_events]


class ContentionError(RuntimeError):
    """Every attempt lost a race on some aggregate's version."""


class ProcessRecorderMixin:
    """Makes an Application record tracking rows with its events (eventsourcing's process recorder)."""

    factory: Any

    def construct_recorder(self) -> ProcessRecorder:
        recorder: ProcessRecorder = self.factory.process_recorder()
        return recorder


def commit(
    app: Application[Any], decide: Decide, tracking: Tracking | None = None, attempts: int = ATTEMPTS
) -> list[Recording[Any]]:
    """Run `decide` and record what it changed (with `tracking`), retrying lost races on fresh state."""
    for _ in range(attempts):
        processing: ProcessingEvent[Any] = ProcessingEvent(tracking)
        processing.collect_events(*decide())
        try:
            recordings = app._record(processing)
        except IntegrityError:
            if tracking is not None and _recorded_before(app, tracking):
                raise
            continue
        app._take_snapshots(processing)
        app._notify(recordings)
        return recordings
    raise ContentionError(f"{app.name}: gave up after {attempts} conflicting attempts")


def _recorded_before(app: Application[Any], tracking: Tracking) -> bool:
    """Whether exactly this tracking row exists. (eventsourcing's `has_tracking_id` answers
    "is the highest position at least this one", which is wrong for events that arrive
    out of store order, as they do from several Kafka partitions.)"""
    recorder = app.recorder
    assert isinstance(recorder, ProcessRecorder), "commit() with tracking needs a process recorder"
    datastore: Any = getattr(recorder, "datastore", None)
    if datastore is None:  # the in-memory store keeps only the highest position
        return recorder.has_tracking_id(tracking.application_name, tracking.notification_id)
    table = getattr(recorder, "tracking_table_name", "tracking")
    marker = "%s" if isinstance(recorder, PostgresTrackingRecorder) else "?"
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE application_name = {marker} AND notification_id = {marker}",
            (tracking.application_name, tracking.notification_id),
        )
        return cursor.fetchone() is not None
