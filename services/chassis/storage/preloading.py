"""Reading many aggregates from a PostgreSQL store in one round trip.

A consumer's batch decides on one aggregate per upstream event (intake: the ticket a routing decision
is about; routing: the ticket's routing), most of them written by another process or not written at
all yet, so the application's cache cannot answer them: read one at a time, each costs a query (and
one more for its snapshot). `stored_aggregates` reads them all at once, each from its newest snapshot
and the events after it, exactly as `Repository.get` would rebuild it; an id it does not answer has no
stored event. An application whose snapshot store checks what it hands out (intake's: only snapshots
that agree with the sealed events) has its aggregates rebuilt from every event instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import EventStore, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg.rows import TupleRow, tuple_row


def stored_aggregates(app: Application[Any], aggregate_ids: Sequence[UUID]) -> dict[UUID, Aggregate] | None:
    """The aggregates of `aggregate_ids` as stored now (those with no stored event left out), or None when
    the store cannot read many at once (only PostgreSQL does)."""
    recorder: Any = app.recorder
    datastore = getattr(recorder, "datastore", None)
    if not isinstance(datastore, PostgresDatastore):
        return None
    if not aggregate_ids:
        return {}
    with datastore.get_connection() as connection, connection.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(_statement(app, datastore), {"ids": list(aggregate_ids)}, prepare=True)
        rows = cursor.fetchall()
    found: dict[UUID, Aggregate] = {}
    for aggregate_id, stored in groupby(rows, key=lambda row: row[0]):
        aggregate: Any = None
        for row in stored:  # as eventsourcing's `project_aggregate`, without its check of each event against a
            # runtime protocol (on Python 3.11 that isinstance walks the protocol's members every time: an eighth
            # of the SLA scheduler's CPU, which rebuilds every clock it fires)
            event: Any = app.mapper.to_domain_event(_stored(row))
            aggregate = event.mutate(aggregate)
        if isinstance(aggregate, Aggregate):
            found[_uuid(aggregate_id)] = aggregate
    return found


def read_ahead(app: Application[Any], aggregate_ids: Sequence[UUID]) -> int:
    """Put in `app`'s cache, in one round trip, the aggregates of `aggregate_ids` it does not hold: a worker
    that knows what it will decide on next (a timer scheduler, the clocks due within the second) reads them
    while it waits, not when they are due. Each is exactly a stored state; a decision still checks the
    cached version against the store's (`UnitOfWork.preload`), so one changed meanwhile is read again.
    How many were read."""
    cache = app.repository.cache
    if cache is None or not app.repository.fastforward:
        return 0
    wanted = []
    for aggregate_id in aggregate_ids:
        try:
            cache.get(aggregate_id)
        except KeyError:
            wanted.append(aggregate_id)
    found = stored_aggregates(app, wanted) if wanted else None
    read = 0
    for aggregate_id, aggregate in (found or {}).items():
        try:
            cache.get(aggregate_id)  # put meanwhile, by a decision that recorded a newer version: that one stays
        except KeyError:
            cache.put(aggregate_id, aggregate)
            read += 1
    return read


def _statement(app: Application[Any], datastore: PostgresDatastore) -> str:
    """Each aggregate's newest snapshot (when the application takes them) and its events after that, in order."""
    events = f"{datastore.schema}.{app.recorder.events_table_name}"  # type: ignore[attr-defined]
    if app.snapshots is None or type(app.snapshots) is not EventStore:  # a store that checks its snapshots
        # (intake's hands out only those that agree with the sealed events): every event, not the raw snapshot
        return (
            "SELECT originator_id, originator_version, topic, state FROM "
            f"{events} WHERE originator_id = ANY(%(ids)s) ORDER BY originator_id, originator_version"
        )
    snapshots = f"{datastore.schema}.{app.snapshots.recorder.events_table_name}"  # type: ignore[attr-defined]
    return (
        "WITH s AS (SELECT DISTINCT ON (originator_id) originator_id, originator_version, topic, state"
        f" FROM {snapshots} WHERE originator_id = ANY(%(ids)s) ORDER BY originator_id, originator_version DESC)"
        " SELECT originator_id, originator_version, topic, state, 0 AS k FROM s"
        " UNION ALL SELECT e.originator_id, e.originator_version, e.topic, e.state, 1 AS k"
        f" FROM {events} e WHERE e.originator_id = ANY(%(ids)s) AND e.originator_version >"
        " COALESCE((SELECT s.originator_version FROM s WHERE s.originator_id = e.originator_id), 0)"
        " ORDER BY 1, 5, 2"
    )


def _stored(row: TupleRow) -> StoredEvent:
    return StoredEvent(originator_id=row[0], originator_version=row[1], topic=row[2], state=bytes(row[3]))


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
