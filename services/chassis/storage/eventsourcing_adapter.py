"""Every call the desk makes into eventsourcing's private API, in one place.

eventsourcing offers no public way to record new events *with* a tracking row and still keep
the application's own bookkeeping (its cache, snapshots and followers): `Application.save`
takes no tracking, and `EventStore.put` skips the bookkeeping. So `commit` records a
`ProcessingEvent` as `Application.save` does inside, through the private steps below; the
SQL views insert their first tracking row through the recorder's private `_insert_tracking`
(it checks the tracking table's shape); the SQLite pool hands over its raw connection. (The process
recorders of batch_tracking.py override the recorders' private `_insert_events` to insert a batch's
further tracking rows, and `_insert_stored_events` to sync a pipeline an early error aborted (early_errors.py):
the same test checks them.)

These are written against eventsourcing 9.5.6 (pinned in pyproject.toml). Upgrading it means
reading these methods again: tests/unit/test_eventsourcing_adapter.py fails loudly when one of
them changes its name or signature.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import Recording, Tracking, TrackingRecorder
from eventsourcing.sqlite import SQLiteConnection

PINNED_VERSION = "9.5.6"


def record(app: Application[Any], processing: ProcessingEvent[Any]) -> list[Recording[Any]]:
    """Store the events and tracking row of `processing` in one transaction, and cache its aggregates."""
    recordings: list[Recording[Any]] = app._record(processing)
    return recordings


def collect(processing: ProcessingEvent[Any], aggregates: Iterable[Any], **kwargs: Any) -> None:
    """What `ProcessingEvent.collect_events` does (the aggregates' pending events, the aggregates, any event
    given as it is, the recorder's keywords), without its checks of each against runtime protocols: on Python
    3.11 such an isinstance walks the protocol's members every time (6 % of the SLA scheduler's CPU)."""
    for obj in aggregates:
        if obj is None:
            continue
        if (pending := getattr(obj, "collect_events", None)) is None:  # a domain event, given as it is
            processing.events.append(obj)
            continue
        processing.events.extend(pending())
        processing.aggregates[obj.id] = obj
    processing.saved_kwargs.update(kwargs)


def take_snapshots(app: Application[Any], processing: ProcessingEvent[Any]) -> None:
    """Snapshot the aggregates of `processing` that reached their snapshotting interval."""
    app._take_snapshots(processing)


def notify(app: Application[Any], recordings: list[Recording[Any]]) -> None:
    """Tell the application (and any followers it leads) what was just recorded."""
    app._notify(recordings)


def insert_tracking(recorder: TrackingRecorder, cursor: Any, tracking: Tracking) -> None:
    """Insert one tracking row inside the caller's transaction (`cursor`), as the recorder would."""
    recorder._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]


def raw_sqlite_connection(connection: SQLiteConnection) -> sqlite3.Connection:
    """The sqlite3 connection inside eventsourcing's wrapper of it."""
    raw: sqlite3.Connection = connection._sqlite_conn
    return raw


def after_recording(app: Application[Any], callback: Callable[[list[Recording[Any]]], None]) -> None:
    """Call `callback` with what `app` recorded, after every recording (`save` and `commit` alike)."""
    recorded = app._notify

    def notify(recordings: list[Recording[Any]]) -> None:
        recorded(recordings)
        callback(recordings)

    app._notify = notify  # type: ignore[method-assign]
