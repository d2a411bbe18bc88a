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
from copy import deepcopy
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import EventStore, IntegrityError, ProcessRecorder, Recording, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder

from services.chassis.storage import eventsourcing_adapter

ATTEMPTS = 50
AS_OF_PAGE = 100  # events read per round trip when replaying to an instant

Decide = Callable[[], Iterable[Any]]  # reads fresh state, runs commands, returns the changed aggregates

A = TypeVar("A", bound=Aggregate)


class UnitOfWork:
    """The aggregates one decision reads and changes, each loaded once (fresh from the store)."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self.loaded: dict[UUID, Aggregate] = {}
        self.shared: dict[UUID, int] = {}  # read from the cache, not copied: never to be changed

    def get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The aggregate, this unit's own copy to change."""
        if aggregate_id in self.shared:
            shared = self.loaded.pop(aggregate_id)
            version = self.shared.pop(aggregate_id)
            copied = deepcopy(shared)
            if copied.version == version:  # whole: a concurrent fast-forward sets the version last
                self.loaded[aggregate_id] = copied
        if aggregate_id not in self.loaded:
            if (aggregate := find(self.app, aggregate_id, kind)) is None:
                return None
            self.loaded[aggregate_id] = aggregate
        found = self.loaded[aggregate_id]
        return found if isinstance(found, kind) else None

    def get_many(self, aggregate_ids: list[UUID], kind: type[A]) -> list[A]:
        """Several aggregates at their newest versions, to read: one round trip checks that the
        application's cache holds them at those versions, and those are shared, not copied.
        `get` gives this unit its own copy of one before it changes it."""
        wanted = [i for i in aggregate_ids if i not in self.loaded]
        cache = self.app.repository.cache
        newest = newest_versions(self.app, wanted) if cache is not None and len(wanted) > 1 else {}
        for aggregate_id in wanted:
            cached: object = None
            if aggregate_id in newest:
                try:
                    cached = cache.get(aggregate_id)  # type: ignore[union-attr]
                except KeyError:
                    cached = None
            if isinstance(cached, kind) and cached.version == newest[aggregate_id]:
                self.loaded[aggregate_id] = cached
                self.shared[aggregate_id] = cached.version
            else:
                self.get(aggregate_id, kind)
        return [a for i in aggregate_ids if isinstance(a := self.loaded.get(i), kind)]

    def add(self, aggregate: A) -> A:
        self.loaded[aggregate.id] = aggregate
        return aggregate

    def changed(self) -> list[Aggregate]:
        return [a for i, a in self.loaded.items() if i not in self.shared and a.pending_events]


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
        if tracking is None and not processing.events:
            return []  # nothing decided (a keyed retry, a command that changed nothing): nothing to record
        try:
            recordings = eventsourcing_adapter.record(app, processing)
        except IntegrityError:
            if tracking is not None and _recorded_before(app, tracking):
                raise
            continue
        _cache_recorded(app, processing)
        eventsourcing_adapter.take_snapshots(app, processing)
        eventsourcing_adapter.notify(app, recordings)
        return recordings
    raise ContentionError(f"{app.name}: gave up after {attempts} conflicting attempts")


def _cache_recorded(app: Application[Any], processing: ProcessingEvent[Any]) -> None:
    """Put the aggregates just recorded, at their new versions, in the application's cache (eventsourcing
    does so itself only without fast-forwarding): the next decision that reads one (`get_many`: the agents
    of a group, one of which took the last ticket) finds it current instead of reading its new events
    from the store and copying it. Each is exactly a stored state, and its unit of work is done with it;
    a newer version written elsewhere is still found by the version check, and fetched."""
    cache = app.repository.cache
    if cache is None or not app.repository.fastforward:
        return
    for aggregate_id, aggregate in processing.aggregates.items():
        cache.put(aggregate_id, aggregate)


def find(app: Application[Any], aggregate_id: UUID, kind: type[A]) -> A | None:
    """The aggregate as stored now, if there is one of that kind (to read, or change and save)."""
    try:
        found: object = app.repository.get(aggregate_id)
    except AggregateNotFoundError:
        return None
    return found if isinstance(found, kind) else None


def as_of(
    app: Application[Any], aggregate_id: UUID, instant: datetime, snapshots: EventStore[Any] | None = None
) -> Any:
    """The aggregate exactly as it was at `instant` (its events up to then), or None if it did not exist.
    With `snapshots` (the application's snapshot store) it starts from the newest snapshot taken by then,
    and it reads events a page at a time, so a long history is not read past the instant."""
    aggregate: Any = None
    after: int | None = None
    if snapshots is not None:
        for snapshot in snapshots.get(aggregate_id, desc=True):
            taken: Any = snapshot
            if taken.timestamp <= instant:
                aggregate, after = taken.mutate(None), taken.originator_version
                break
    while page := list(app.events.get(aggregate_id, gt=after, limit=AS_OF_PAGE)):
        for stored in page:
            domain_event: Any = stored
            if domain_event.timestamp > instant:
                return aggregate
            aggregate, after = domain_event.mutate(aggregate), domain_event.originator_version
    return aggregate


def newest_versions(app: Application[Any], aggregate_ids: list[UUID]) -> dict[UUID, int]:
    """The newest stored version of each aggregate, in one query (empty on the in-memory store): one index
    probe per aggregate (its newest version, read backwards), not a scan of its whole history as `GROUP BY`
    does (an agent's stream grows by an event with every ticket it takes: 28 ms for 10 agents of 3,000)."""
    recorder: Any = app.recorder
    datastore: Any = getattr(recorder, "datastore", None)
    if datastore is None or not aggregate_ids:
        return {}
    table = recorder.events_table_name
    postgres = isinstance(recorder, PostgresTrackingRecorder)
    if postgres:
        statement = (
            f"SELECT i.id, (SELECT MAX(originator_version) FROM {datastore.schema}.{table}"
            " WHERE originator_id = i.id) AS version FROM unnest(%s::uuid[]) AS i(id)"
        )
        params: tuple[Any, ...] = (aggregate_ids,)
    else:
        marks = ", ".join(["(?)"] * len(aggregate_ids))
        statement = (
            f"WITH i(id) AS (VALUES {marks}) SELECT i.id AS id,"
            f" (SELECT MAX(originator_version) FROM {table} WHERE originator_id = i.id) AS version FROM i"
        )
        params = tuple(i.hex for i in aggregate_ids)
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    return {_uuid(row["id"]): int(row["version"]) for row in rows if row["version"] is not None}


def stream_positions(app: Application[Any], aggregate_id: UUID) -> dict[int, int]:
    """The store position (notification id) of each stored version of one aggregate."""
    recorder: Any = app.recorder
    datastore: Any = getattr(recorder, "datastore", None)
    if datastore is None:  # in memory: read the log
        positions: dict[int, int] = {}
        start = 1
        while notifications := recorder.select_notifications(start, 1000):
            positions |= {n.originator_version: n.id for n in notifications if n.originator_id == aggregate_id}
            start = notifications[-1].id + 1
        return positions
    table = recorder.events_table_name
    if isinstance(recorder, PostgresTrackingRecorder):
        statement = (
            f"SELECT originator_version, notification_id FROM {datastore.schema}.{table} WHERE originator_id = %s"
        )
        params: tuple[Any, ...] = (aggregate_id,)
    else:
        statement = f"SELECT originator_version, rowid AS notification_id FROM {table} WHERE originator_id = ?"
        params = (aggregate_id.hex,)
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    return {int(row["originator_version"]): int(row["notification_id"]) for row in rows}


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


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
