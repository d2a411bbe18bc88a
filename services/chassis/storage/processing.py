"""Deciding on fresh state and recording the decision, with its upstream position, at once.

A service that reacts to another's event (routing to `ticket.opened`, intake to
`routing.decided`) must store its new events and the tracking row of the event it
answers in one transaction: then a redelivered event finds its tracking row and
changes nothing, and a crash in between leaves neither. The application's recorder
must be a process recorder (see `ProcessRecorderMixin`).

Two writers deciding on the same aggregate conflict on its version; the loser decides
again on fresh state. Only a tracking row recorded before is reported to the caller,
as eventsourcing's IntegrityError: the consumer counts that as a duplicate.

A consumer records many upstream events at once with `commit_batch`: while it runs, every
`commit` on the same application decides on the batch's one unit of work (each aggregate
loaded once, so a later event sees what an earlier one changed) and records nothing; then
the batch's changed aggregates and all its tracking rows are recorded in one transaction
(batch_tracking.py). The reactions stay one application method per command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from copy import deepcopy
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import EventStore, IntegrityError, ProcessRecorder, Recording, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder

from services.chassis.storage import batch_tracking, eventsourcing_adapter
from services.chassis.storage.batch_tracking import MORE_TRACKING, BatchTrackingRecorder
from services.chassis.storage.preloading import stored_aggregates
from services.chassis.storage.reads import read_cursor

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
        self.absent: set[UUID] = set()  # read and found without a stored event (preloaded)
        if (batch := _batch_of(app)) is not None:  # one batch, one unit: every decision sees the others' changes
            self.loaded, self.shared, self.absent = batch.unit.loaded, batch.unit.shared, batch.unit.absent

    def get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The aggregate, this unit's own copy to change."""
        if aggregate_id in self.shared:
            shared = self.loaded.pop(aggregate_id)
            version = self.shared.pop(aggregate_id)
            copied = deepcopy(shared)
            if copied.version == version:  # whole: a concurrent fast-forward sets the version last
                self.loaded[aggregate_id] = copied
        if aggregate_id not in self.loaded:
            if aggregate_id in self.absent or (aggregate := _load(self.app, aggregate_id, kind)) is None:
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

    def preload(self, aggregate_ids: Iterable[UUID]) -> None:
        """Read the aggregates this unit will want that the application's cache does not hold, all in one
        round trip (preloading.py; on a store that cannot, `get` reads each when it is wanted); those it
        holds are checked to be current in one more (`get_many`), not fast-forwarded one query each."""
        cache = self.app.repository.cache
        wanted, cached = [], []
        for aggregate_id in dict.fromkeys(aggregate_ids):
            if aggregate_id in self.loaded or aggregate_id in self.absent:
                continue
            if cache is not None:
                try:
                    cache.get(aggregate_id)
                    cached.append(aggregate_id)  # the cache's copy costs less than a rebuild
                    continue
                except KeyError:
                    pass
            wanted.append(aggregate_id)
        if len(cached) > 1:
            self.get_many(cached, Aggregate)
        if len(wanted) < 2 or (found := stored_aggregates(self.app, wanted)) is None:
            return
        self.loaded |= found
        self.absent |= set(wanted) - found.keys()

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
    """Run `decide` and record what it changed (with `tracking`), retrying lost races on fresh state.
    Inside `commit_batch` on `app` it decides on the batch's unit and leaves the recording to the batch
    (no recordings to answer then)."""
    if (batch := _batch_of(app)) is not None:
        batch.decide(decide, tracking)
        return []
    for _ in range(attempts):
        processing: ProcessingEvent[Any] = ProcessingEvent(tracking)
        eventsourcing_adapter.collect(processing, decide())
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


class BatchFailedError(RuntimeError):
    """A decision of the batch raised: nothing of the batch is recorded; apply its events one by one."""


class _Batch:
    """The upstream events of one batch being decided on one unit of work, to be recorded at once."""

    def __init__(self, app: Application[Any]) -> None:
        self.app = app
        self.unit = UnitOfWork.__new__(UnitOfWork)  # not through __init__: that would join this batch
        self.unit.app, self.unit.loaded, self.unit.shared, self.unit.absent = app, {}, {}, set()
        self.trackings: list[Tracking] = []
        self.failed: BaseException | None = None

    def decide(self, decide: Decide, tracking: Tracking | None) -> None:
        try:
            changed = list(decide())
        except BaseException as error:  # its changes may be half made on the shared unit: the batch is void
            self.failed = error
            raise
        for aggregate in changed:
            known = self.unit.loaded.setdefault(aggregate.id, aggregate)
            if known is not aggregate:  # decided on another copy than the batch's: the batch cannot hold both
                self.failed = BatchFailedError(f"two copies of {aggregate.id} in one batch")
                raise self.failed
        if tracking is not None:
            self.trackings.append(tracking)

    def record(self) -> list[Recording[Any]]:
        if not self.trackings and not self.unit.changed():
            return []
        first = self.trackings[0] if self.trackings else None
        processing: ProcessingEvent[Any] = ProcessingEvent(first)
        eventsourcing_adapter.collect(processing, self.unit.changed(), **{MORE_TRACKING: self.trackings[1:]})
        recordings = eventsourcing_adapter.record(self.app, processing)
        eventsourcing_adapter.take_snapshots(self.app, processing)
        _cache_recorded(self.app, processing)
        eventsourcing_adapter.notify(self.app, recordings)
        return recordings


_BATCH: ContextVar[_Batch | None] = ContextVar("processing_batch", default=None)


def _batch_of(app: Application[Any]) -> _Batch | None:
    batch = _BATCH.get()
    return batch if batch is not None and batch.app is app else None


def batchable(app: Application[Any]) -> bool:
    """Whether `app`'s recorder records a batch's many tracking rows in one transaction."""
    return isinstance(app.recorder, BatchTrackingRecorder)


def commit_batch(
    app: Application[Any],
    trackings: Sequence[Tracking],
    run: Callable[[int], None],
    attempts: int = ATTEMPTS,
    preload: Callable[[int], UUID | None] | None = None,
) -> set[int]:
    """Run `run(k)` for each upstream event k of a batch in order (its `trackings[k]`) on one unit of
    work, and record every decision `commit`ted on `app` meanwhile, with their tracking rows, in one
    transaction. Events tracked before (their rows fail the record; then one query finds them) or
    twice in the batch are skipped: their indices are answered. A lost race decides the batch again
    on fresh state. Whatever `run` raises voids the batch and is raised as it is (a swallowed failure
    as BatchFailedError): nothing is recorded, for the caller to retry (the store away) or to go one
    event at a time (to find a poison event). `preload(k)` names the aggregate event k will decide
    on, if it knows: the batch reads those at once."""
    if not batchable(app):
        raise BatchFailedError(f"{app.name}: its recorder records one tracking row per transaction")
    # A redelivered event is rare (a crash before the commit of its offset): the first attempt sets aside only
    # the batch's own repeats, and one tracked before fails the record (its tracking row is there), as it does
    # one event alone; the attempts after that look the tracked ones up first (a query a batch saved).
    look_up = False
    for _ in range(attempts):
        skipped = (
            batch_tracking.skipped(app.recorder, trackings) if look_up else batch_tracking.repeated(trackings)  # type: ignore[arg-type]
        )
        batch = _Batch(app)
        if preload is not None:
            batch.unit.preload(i for k in range(len(trackings)) if k not in skipped and (i := preload(k)) is not None)
        token = _BATCH.set(batch)
        try:
            for k in range(len(trackings)):
                if k in skipped:
                    continue
                try:
                    run(k)
                except IntegrityError:  # an effect with its own transaction (a view) recorded before
                    if batch.failed is not None:
                        raise
                    skipped.add(k)
                if batch.failed is not None:  # swallowed by the reaction: the unit is not to be trusted
                    raise BatchFailedError(f"{app.name}: event {k} of the batch failed") from batch.failed
        finally:
            _BATCH.reset(token)
        try:
            batch.record()
        except IntegrityError:
            look_up = True
            continue  # tracked before, or another writer first: its tracking rows (skipped next time) or versions
        return skipped
    raise ContentionError(f"{app.name}: gave up on a batch after {attempts} conflicting attempts")


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
    """The aggregate as stored now, if there is one of that kind (to read, or change and save); inside a
    batch on `app`, the batch's own copy, changed by its earlier decisions."""
    if (batch := _batch_of(app)) is not None:
        return batch.unit.get(aggregate_id, kind)
    return _load(app, aggregate_id, kind)


def _load(app: Application[Any], aggregate_id: UUID, kind: type[A]) -> A | None:
    if _absent(app, aggregate_id, kind):
        return None
    try:
        found: object = app.repository.get(aggregate_id)
    except AggregateNotFoundError:
        return None
    return found if isinstance(found, kind) else None


def _absent(app: Application[Any], aggregate_id: UUID, kind: type[A]) -> bool:
    """Whether the store surely has no aggregate `aggregate_id`, known from one query where the repository
    spends two: it looks for a snapshot first, which an aggregate of a kind the application never
    snapshots (a request's idempotency record, a tenant's custom fields) cannot have. Most such
    lookups find nothing (a new request's key), and a cached aggregate exists: both cost one query."""
    if app.snapshots is None or any(issubclass(snapshotted, kind) for snapshotted in app.snapshotting_intervals or ()):
        return False
    if (cache := app.repository.cache) is not None:
        try:
            cache.get(aggregate_id)
        except KeyError:
            pass
        else:
            return False
    return not app.recorder.select_events(aggregate_id, limit=1)


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
    with read_cursor(datastore) as cursor:
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
    with read_cursor(datastore) as cursor:
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
    with read_cursor(datastore) as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE application_name = {marker} AND notification_id = {marker}",
            (tracking.application_name, tracking.notification_id),
        )
        return cursor.fetchone() is not None
