"""Process recorders that record a batch's many tracking rows with its events, in one transaction.

eventsourcing's process recorder inserts the one `tracking` row it is given in the transaction of
the new events. A batch of upstream events (processing.py `commit_batch`) has one row per event:
the first travels as `tracking`, the others as `more_tracking` (the keyword the application passes
on from `ProcessingEvent.collect_events`), inserted by the recorder's own statement in the same
transaction, so a row recorded before fails the whole batch as one would fail alone, however early its
error comes back (early_errors.py). store.py makes these the stores' process recorders (PROCESS_RECORDER_TOPIC).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresProcessRecorder, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from services.chassis.storage.early_errors import SyncedOnError
from services.chassis.storage.postgres import RenderedSelects
from services.chassis.storage.reads import read_cursor

MORE_TRACKING = "more_tracking"
_TEXT_ROWS, _BINARY_ROWS = "FROM unnest(%s::", "FROM unnest(%b::"


class BatchTrackingRecorder(TrackingRecorder):
    """A process recorder that inserts every row of `more_tracking` with the events."""


def _insert_more(recorder: Any, cursor: Any, kwargs: dict[str, Any]) -> None:
    more: Sequence[Tracking] = kwargs.get(MORE_TRACKING, ())
    for tracking in more:
        recorder._insert_tracking(cursor, tracking)


class PostgresBatchProcessRecorder(RenderedSelects, SyncedOnError, PostgresProcessRecorder, BatchTrackingRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The new events go to the server as one array of the stored-event row type in binary: as text
        (the library's `%s`) every event's state is escaped byte by byte, and each row quoted by a regex."""
        super().__init__(*args, **kwargs)
        text = self.insert_events_statement.as_string(None)
        if text.count(_TEXT_ROWS) == 1:
            self.insert_events_statement = SQL(text.replace(_TEXT_ROWS, _BINARY_ROWS))  # type: ignore[assignment]
        self._insert_more_statement = SQL(
            "INSERT INTO {}.{} (application_name, notification_id) SELECT %s, unnest(%s::bigint[])"
        ).format(Identifier(self.datastore.schema), Identifier(self.tracking_table_name))

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """The batch's further tracking rows in one statement per upstream, not one each (a statement for
        every ticket event SLA's consumer records); the first goes through the recorder, which checks the
        table's shape."""
        positions: dict[str, list[int]] = {}
        for tracking in kwargs.get(MORE_TRACKING, ()):
            positions.setdefault(tracking.application_name, []).append(tracking.notification_id)
        for name, ids in positions.items():
            curs.execute(
                self._insert_more_statement,
                [name, "{" + ",".join(map(str, ids)) + "}"],  # as text: psycopg would dump the items one by one
                prepare=True,
            )
        super()._insert_events(curs, stored_events, **kwargs)


class SQLiteBatchProcessRecorder(SQLiteProcessRecorder, BatchTrackingRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        _insert_more(self, c, kwargs)
        return super()._insert_events(c, stored_events, **kwargs)


def tracked(recorder: TrackingRecorder, trackings: Sequence[Tracking]) -> set[int]:
    """The indices of `trackings` whose row `recorder`'s table holds, in one query per upstream."""
    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    postgres = isinstance(recorder, PostgresTrackingRecorder)
    table = f"{datastore.schema}.{getattr(recorder, 'tracking_table_name', '')}" if postgres else "tracking"
    positions: dict[str, list[int]] = {}
    for tracking in trackings:
        positions.setdefault(tracking.application_name, []).append(tracking.notification_id)
    found: set[tuple[str, int]] = set()
    with read_cursor(datastore) as cursor:
        for name, ids in positions.items():
            params: tuple[Any, ...]
            if postgres:
                where, params = "= ANY(%s)", (name, ids)
            else:
                where, params = f"IN ({', '.join('?' * len(ids))})", (name, *ids)
            cursor.execute(
                f"SELECT notification_id FROM {table} WHERE application_name = {'%s' if postgres else '?'}"
                f" AND notification_id {where}",
                params,
            )
            found |= {(name, int(row["notification_id"])) for row in cursor.fetchall()}
    return {k for k, t in enumerate(trackings) if (t.application_name, t.notification_id) in found}


def skipped(recorder: TrackingRecorder, trackings: Sequence[Tracking]) -> set[int]:
    """The indices of a batch's events not to apply: tracked before, or earlier in the same batch."""
    return tracked(recorder, trackings) | repeated(trackings)


def repeated(trackings: Sequence[Tracking]) -> set[int]:
    """The indices of a batch's events that came earlier in the same batch."""
    skip: set[int] = set()
    seen: set[tuple[str, int]] = set()
    for k, tracking in enumerate(trackings):
        key = (tracking.application_name, tracking.notification_id)
        if key in seen:
            skip.add(k)
        seen.add(key)
    return skip


TOPICS = {
    "postgres": f"{__name__}:{PostgresBatchProcessRecorder.__name__}",
    "sqlite": f"{__name__}:{SQLiteBatchProcessRecorder.__name__}",
}
