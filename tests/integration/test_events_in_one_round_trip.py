"""A store's events, with the tracking rows of what caused them, are recorded in one round trip to PostgreSQL
(services/chassis/storage/early_errors.py `insert_events`, services/chassis/storage/pipelined.py): all of them or
none, in the order readers of the notification log rely on."""

from __future__ import annotations

import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, ProcessRecorder, StoredEvent, Tracking
from psycopg.pq import Trace, TransactionStatus

from services.chassis.storage.batch_tracking import MORE_TRACKING
from services.chassis.storage.postgres import DeskPostgresFactory
from services.chassis.storage.store import store_env
from tests.infra import Postgres

WRITERS = 3
EVENTS_EACH = 60


def a_recorder(postgres: Postgres, connections: int) -> Iterator[ProcessRecorder]:
    with postgres.fresh_settings() as settings:
        env = store_env(settings.model_copy(update={"postgres_pool_size": connections}), "roundtrips")
        recorder = DeskPostgresFactory(env | {"POSTGRES_MAX_OVERFLOW": "0"}).process_recorder()
        yield recorder
        recorder.datastore.close()  # type: ignore[attr-defined]


@pytest.fixture
def recorder(postgres: Postgres) -> Iterator[ProcessRecorder]:
    """On one connection, which a test can trace."""
    yield from a_recorder(postgres, 1)


@pytest.fixture
def shared(postgres: Postgres) -> Iterator[ProcessRecorder]:
    """On connections enough for writers and a reader at once."""
    yield from a_recorder(postgres, WRITERS + 2)


def event(stream: uuid.UUID, version: int) -> StoredEvent:
    return StoredEvent(stream, version, "tests:Happened", b"{}")


def syncs_sent(trace: Path) -> int:
    """The Sync and simple Query messages in a libpq trace: a round trip each."""
    return sum(
        1 for line in trace.read_text().splitlines()
        if line.startswith("F\t") and line.split("\t")[2].split(" ")[0] in ("Sync", "Query")
    )  # fmt: skip


def test_events_and_their_tracking_rows_go_in_one_round_trip(recorder: ProcessRecorder) -> None:
    stream = uuid.uuid4()
    recorder.insert_events([event(stream, 1)], tracking=Tracking("upstream", 1))  # the recorder's first checks
    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp, (Path(tmp) / "trace").open("w") as out:
        with datastore.get_connection() as conn:
            conn.pgconn.trace(out.fileno())
            conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
        ids = recorder.insert_events(
            [event(stream, 2), event(stream, 3)],
            tracking=Tracking("upstream", 2),
            **{MORE_TRACKING: [Tracking("upstream", 3), Tracking("other", 1)]},
        )
        with datastore.get_connection() as conn:
            conn.pgconn.untrace()
        out.flush()
        assert syncs_sent(Path(tmp) / "trace") == 1
    assert ids is not None
    assert len(ids) == 2
    assert ids[1] == ids[0] + 1
    assert recorder.max_tracking_id("upstream") == 3
    assert recorder.max_tracking_id("other") == 1


def test_an_event_recorded_before_records_nothing_of_its_batch(recorder: ProcessRecorder) -> None:
    stream = uuid.uuid4()
    recorder.insert_events([event(stream, 1)], tracking=Tracking("upstream", 1))
    with pytest.raises(IntegrityError):
        recorder.insert_events([event(stream, 2), event(stream, 1)], tracking=Tracking("upstream", 2))
    assert [e.originator_version for e in recorder.select_events(stream)] == [1]
    assert recorder.max_tracking_id("upstream") == 1
    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    with datastore.get_connection() as conn:  # none of the pool's connections is left in the failed transaction
        assert conn.info.transaction_status == TransactionStatus.IDLE
    assert recorder.insert_events([event(stream, 2)], tracking=Tracking("upstream", 2)) is not None


def test_a_tracking_row_recorded_before_records_none_of_the_events(recorder: ProcessRecorder) -> None:
    stream = uuid.uuid4()
    recorder.insert_events([event(stream, 1)], tracking=Tracking("upstream", 1))
    with pytest.raises(IntegrityError):
        recorder.insert_events([event(stream, 2)], tracking=Tracking("upstream", 1))
    assert [e.originator_version for e in recorder.select_events(stream)] == [1]


def test_writers_at_once_never_leave_a_reader_a_gap_they_fill_later(shared: ProcessRecorder) -> None:
    """The events table's lock, held from LOCK to COMMIT, makes the notification order the commit order."""
    seen: list[int] = []
    writing = threading.Event()
    writing.set()

    def write() -> None:
        stream = uuid.uuid4()
        for version in range(1, EVENTS_EACH + 1):
            shared.insert_events([event(stream, version)])

    def read() -> None:
        while writing.is_set() or len(seen) < WRITERS * EVENTS_EACH:
            after = seen[-1] if seen else 0
            seen.extend(n.id for n in shared.select_notifications(after + 1, 100))

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=write) for _ in range(WRITERS)]
    reader.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    writing.clear()
    reader.join(timeout=30)
    every = [n.id for n in shared.select_notifications(1, WRITERS * EVENTS_EACH + 10)]
    assert seen == every
