"""The desk's calls into eventsourcing's private API still fit the installed eventsourcing.

If one of these fails after an upgrade, read the named method in eventsourcing again and
fix services/chassis/storage/eventsourcing_adapter.py before anything else.
"""

from __future__ import annotations

import inspect
import sqlite3
from importlib.metadata import version
from typing import Any

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresProcessRecorder, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool, SQLiteProcessRecorder, SQLiteTrackingRecorder

from services.chassis.storage import eventsourcing_adapter
from services.chassis.storage.processing import ProcessRecorderMixin


def parameters(method: Any) -> list[str]:
    return list(inspect.signature(method).parameters)


def test_the_adapter_names_the_eventsourcing_it_was_written_for() -> None:
    assert version("eventsourcing") == eventsourcing_adapter.PINNED_VERSION, (
        "eventsourcing was upgraded: read its private methods used by eventsourcing_adapter again"
    )


def test_the_private_methods_the_desk_calls_keep_their_signatures() -> None:
    assert parameters(Application._record) == ["self", "processing_event"]
    assert parameters(Application._take_snapshots) == ["self", "processing_event"]
    assert parameters(Application._notify) == ["self", "recordings"]
    assert parameters(PostgresTrackingRecorder._insert_tracking) == ["self", "curs", "tracking"]
    assert parameters(SQLiteTrackingRecorder._insert_tracking) == ["self", "c", "tracking"]
    assert parameters(SQLiteConnectionPool._create_connection) == ["self"]
    # batch_tracking.py overrides the process recorders' `_insert_events`, which read `tracking` from kwargs
    assert parameters(PostgresProcessRecorder._insert_events) == ["self", "curs", "stored_events", "kwargs"]
    assert parameters(SQLiteProcessRecorder._insert_events) == ["self", "c", "stored_events", "kwargs"]
    assert "saved_kwargs" in inspect.getsource(Application._record)  # collect_events' keywords reach the recorder
    assert "_sqlite_conn" in inspect.getsource(SQLiteConnection.__init__)
    # early_errors.py overrides `_insert_stored_events`, called where `insert_events` keeps an error for after its
    # pipeline, and syncs the pipeline when that error was read before the sync `insert_events` makes
    assert parameters(PostgresApplicationRecorder._insert_stored_events) == ["self", "curs", "stored_events", "kwargs"]
    kept = inspect.getsource(PostgresApplicationRecorder.insert_events)
    assert "self._insert_stored_events(" in kept
    assert "pipeline.sync()" in kept
    assert "exc = e" in kept


def test_every_postgres_transaction_that_records_events_notifies_the_events_tables_channel() -> None:
    # services/chassis/storage/wake.py LISTENs on `channel_name` for this NOTIFY
    assert "_notify_channel(curs)" in inspect.getsource(PostgresApplicationRecorder._insert_stored_events)
    assert "channel_name" in inspect.getsource(PostgresApplicationRecorder._notify_channel)
    assert "self.channel_name =" in inspect.getsource(PostgresApplicationRecorder.__init__)


class Desk(ProcessRecorderMixin, Application[Any]):
    pass


def test_events_recorded_with_a_tracking_row_are_stored_and_tracked() -> None:
    app = Desk(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "AGGREGATE_CACHE_MAXSIZE": "10"})
    aggregate = Aggregate()
    processing: ProcessingEvent[Any] = ProcessingEvent(Tracking("upstream", 7))
    processing.collect_events(aggregate)

    recordings = eventsourcing_adapter.record(app, processing)
    eventsourcing_adapter.take_snapshots(app, processing)
    eventsourcing_adapter.notify(app, recordings)

    assert [r.domain_event.originator_id for r in recordings] == [aggregate.id]
    assert app.repository.get(aggregate.id).version == aggregate.version
    assert app.recorder.max_tracking_id("upstream") == 7  # type: ignore[attr-defined]


def test_the_raw_sqlite_connection_is_the_one_inside_the_wrapper() -> None:
    raw = sqlite3.connect(":memory:")
    assert eventsourcing_adapter.raw_sqlite_connection(SQLiteConnection(raw, max_age=None)) is raw


def test_a_hook_after_recording_sees_what_save_and_commit_recorded() -> None:
    app = Desk(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    seen: list[int] = []
    eventsourcing_adapter.after_recording(app, lambda recordings: seen.extend(r.notification.id for r in recordings))

    app.save(Aggregate())
    processing: ProcessingEvent[Any] = ProcessingEvent(Tracking("upstream", 1))
    processing.collect_events(Aggregate())
    eventsourcing_adapter.notify(app, eventsourcing_adapter.record(app, processing))

    assert seen == [1, 2]
