"""A statement's error that psycopg reads early in eventsourcing's pipeline still reaches the caller as itself.

eventsourcing's PostgreSQL recorder sends a transaction's statements (the tracking rows, LOCK, NOTIFY, the
events) in one pipeline and syncs it after the last, so that a failure is read there; an error raised before
that sync it keeps aside, and raises once the pipeline has ended. But psycopg reads what the server has sent
whenever it sends a statement, and the server sends an error at once: when a tracking row recorded before (a
redelivered event) had its error back before LOCK, NOTIFY or the events went out, it was raised there, and the
aborted pipeline was never synced. Its end then read the skipped statements' results and raised psycopg's
`PipelineAborted` (an OperationalError), which carries nothing of the kept error: eventsourcing retried it as a
transient fault (ten times, 0.2 s apart), then the consumer, each attempt meeting the duplicate again and ending
on `IntegrityError` or on `OperationalError` as the timing fell (tests/integration/test_early_duplicates.py).

`SyncedOnError` makes that sync at once when a statement's error was read early: what the server skipped
answers `PipelineAborted`, which says nothing more and is dropped, and the error itself goes on to eventsourcing,
which raises it after the pipeline as it does one read at the sync (a tracking row recorded before: its
IntegrityError). An error that did not abort the pipeline (a connection lost, a value psycopg could not send)
goes on as it came, and so does one of the sync itself (the connection lost meanwhile): retried as transient.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Connection, Cursor, Pipeline, pq
from psycopg.rows import DictRow


class SyncedOnError(PostgresApplicationRecorder):
    """eventsourcing's recorder, whose pipeline is synced as soon as a statement's error is read before its
    events are sent (an earlier statement's, read as LOCK, NOTIFY or the events went out)."""

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        try:
            super()._insert_stored_events(curs, stored_events, **kwargs)
        except psycopg.Error:
            sync_aborted(curs.connection)
            raise


def sync_aborted(conn: Connection[Any]) -> None:
    """Sync `conn`'s pipeline if an error aborted it, dropping the `PipelineAborted` of the statements skipped."""
    pipeline = conn._pipeline
    if not isinstance(pipeline, Pipeline) or conn.pgconn.status != pq.ConnStatus.OK:
        return
    if pipeline.status != pq.PipelineStatus.ABORTED:
        return
    with suppress(psycopg.errors.PipelineAborted):  # what the server skipped after the error: nothing more
        pipeline.sync()
