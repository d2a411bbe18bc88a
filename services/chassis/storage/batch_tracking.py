"""Process recorders that record a batch's many tracking rows with its events, in one transaction.

eventsourcing's process recorder inserts the one `tracking` row it is given in the transaction of
the new events. A batch of upstream events (processing.py `commit_batch`) has one row per event:
the first travels as `tracking`, the others as `more_tracking` (the keyword the application passes
on from `ProcessingEvent.collect_events`), inserted by the recorder's own statement in the same
transaction, so a row recorded before fails the whole batch as one would fail alone. store.py
makes these the stores' process recorders (PROCESS_RECORDER_TOPIC).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow

MORE_TRACKING = "more_tracking"


class BatchTrackingRecorder(TrackingRecorder):
    """A process recorder that inserts every row of `more_tracking` with the events."""


def _insert_more(recorder: Any, cursor: Any, kwargs: dict[str, Any]) -> None:
    more: Sequence[Tracking] = kwargs.get(MORE_TRACKING, ())
    for tracking in more:
        recorder._insert_tracking(cursor, tracking)


class PostgresBatchProcessRecorder(PostgresProcessRecorder, BatchTrackingRecorder):
    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        _insert_more(self, curs, kwargs)
        super()._insert_events(curs, stored_events, **kwargs)


class SQLiteBatchProcessRecorder(SQLiteProcessRecorder, BatchTrackingRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        _insert_more(self, c, kwargs)
        return super()._insert_events(c, stored_events, **kwargs)


TOPICS = {
    "postgres": f"{__name__}:{PostgresBatchProcessRecorder.__name__}",
    "sqlite": f"{__name__}:{SQLiteBatchProcessRecorder.__name__}",
}
