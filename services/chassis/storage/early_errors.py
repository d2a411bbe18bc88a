"""A store's events are recorded in one round trip, and a statement's error that psycopg reads early in the
pipeline still reaches the caller as itself.

eventsourcing's recorder syncs its pipeline three times a transaction: after BEGIN (psycopg's transaction block
inside a pipeline), after the events, and after COMMIT. `SyncedOnError.insert_events` sends the same statements
with BEGIN and COMMIT as one pipeline (pipelined.py): a ticket opened through the gateway takes 4 round trips
instead of 8, and one opened alone 10 % less CPU (`python -m bench.ticket_open --store postgres`, `python -m
bench.open_batches`; tests/integration/test_events_in_one_round_trip.py).

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

A transaction whose connection was lost is in doubt: its COMMIT may have reached the server and been carried out,
its answer lost on the way back. eventsourcing's retry sends it again, and the events' versions, recorded by the
first, refuse it: the caller took that for a lost race and decided again, on a ticket that now held its own reply
(422 "exists already") or its own resolution (409). So a retry after a lost connection that is refused first
looks for this transaction's own events, byte for byte, at those versions: found, the first attempt committed,
and their positions are the answer (tests/integration/test_lost_commit_answers.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Connection, Cursor, Pipeline, pq
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from services.chassis.storage.pipelined import one_round_trip
from services.chassis.storage.reads import read_cursor

ATTEMPTS, WAIT = 10, 0.2  # eventsourcing's retry of a lost connection: 10 attempts, 0.2 s apart


class SyncedOnError(PostgresApplicationRecorder):
    """eventsourcing's recorder, whose pipeline is synced as soon as a statement's error is read before its
    events are sent (an earlier statement's, read as LOCK, NOTIFY or the events went out); and whose transaction
    goes to the server in one round trip (`insert_events`)."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """eventsourcing's statements (the tracking rows, SET LOCAL lock_timeout, LOCK, NOTIFY, the events), with
        BEGIN and COMMIT, in one pipeline (`_insert_at_once`), retried like eventsourcing's after a lost
        connection; a retry refused because the lost attempt committed answers that attempt's positions."""
        in_doubt = False
        for attempt in range(1, ATTEMPTS + 1):
            try:
                try:
                    return self._insert_at_once(stored_events, **kwargs)
                except IntegrityError:
                    if in_doubt and stored_events and (ids := self._recorded_as_sent(stored_events)) is not None:
                        return ids
                    raise
            except (InterfaceError, OperationalError):  # the check's own too: the next attempt checks again
                if attempt == ATTEMPTS:
                    raise
                in_doubt = True  # the COMMIT may have been carried out, its answer lost with the connection
                time.sleep(WAIT * (1 + 0.1 * (random.random() - 0.5)))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _insert_at_once(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """One pipeline (pipelined.py): one round trip where eventsourcing's takes three (it syncs after BEGIN,
        after the events, and after COMMIT). The table's lock is held from LOCK to COMMIT without a wait for the
        client between them. A statement's error (a tracking row or an event's version recorded before) rolls
        the whole back and reaches the caller as eventsourcing's would."""
        with self.datastore.get_connection() as conn:
            with one_round_trip(conn) as curs:
                self._insert_events(curs, stored_events, **kwargs)
                if not stored_events:
                    return None
                inserting = conn.cursor()  # its result alone: the events' notification ids
                self._insert_stored_events(inserting, stored_events, **kwargs)
            with inserting:
                return self._fetch_ids_after_insert_events(inserting, stored_events, **kwargs)

    def _recorded_as_sent(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The positions of `stored_events` if the store holds exactly them, else None: topic and state byte for
        byte, and a state holds its event's instant to the microsecond, so another writer's event matches only if
        it recorded the same fact at the same instant."""
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state, notification_id FROM {}.{}"
            " WHERE originator_id = ANY(%s) AND originator_version = ANY(%s)"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        ids = list(dict.fromkeys(e.originator_id for e in stored_events))
        versions = list(dict.fromkeys(e.originator_version for e in stored_events))
        with read_cursor(self.datastore) as cursor:
            cursor.execute(statement, (ids, versions))
            stored = {(str(row["originator_id"]), row["originator_version"]): row for row in cursor.fetchall()}
        positions: list[int] = []
        for sent in stored_events:
            row = stored.get((str(sent.originator_id), sent.originator_version))
            if row is None or row["topic"] != sent.topic or bytes(row["state"]) != sent.state:
                return None
            positions.append(int(row["notification_id"]))
        return positions

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
