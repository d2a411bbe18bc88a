"""A redelivered event is a duplicate however early its tracking row's error comes back
(services/chassis/storage/early_errors.py).

eventsourcing's recorder sends the tracking rows, LOCK, NOTIFY and the events in one pipeline. When the server's
answer to a tracking row recorded before came back before the events went out, psycopg read it there, the pipeline
ended on `pipeline aborted` (an OperationalError) instead of the duplicate, and the store retried it as a store away,
each attempt meeting the duplicate again (tests/integration/test_prepared_statements.py failed about 1 run in 25).
Here the store's recorder waits for the server's answer to its tracking rows before it sends the events, every time.
"""

from __future__ import annotations

import select
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.utils import Environment
from psycopg import Cursor
from psycopg.rows import DictRow

from services.chassis.runtime.settings import Settings
from services.chassis.storage.batch_tracking import MORE_TRACKING, PostgresBatchProcessRecorder
from services.chassis.storage.postgres import DeskPostgresFactory
from services.chassis.storage.store import store_env
from tests.infra import Postgres

ANSWER_SECONDS = 5.0  # the server answers within milliseconds: this only bounds a wait that should not happen


class AnswersBeforeTheEvents(PostgresBatchProcessRecorder):
    """The store's process recorder, which has the server answer the tracking rows, and waits for that answer,
    before it sends LOCK, NOTIFY and the events: psycopg reads the answer as they go out. `before_the_events`
    (given) runs then too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempts = 0
        self.before_the_events: Callable[[Cursor[DictRow]], None] | None = None

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Any, **kwargs: Any) -> None:
        self.attempts += 1
        super()._insert_events(curs, stored_events, **kwargs)  # the tracking rows
        if self.before_the_events is not None:
            self.before_the_events(curs)
        pgconn = curs.connection.pgconn
        pgconn.send_flush_request()
        pgconn.flush()
        select.select([pgconn.socket], [], [], ANSWER_SECONDS)


@pytest.fixture
def recorder(postgres: Postgres) -> Iterator[AnswersBeforeTheEvents]:
    """On a store of one connection, as test_prepared_statements.py's."""
    with postgres.fresh_settings() as settings:
        factory = DeskPostgresFactory(a_store(settings.model_copy(update={"postgres_pool_size": 1})))
        recorder = factory.process_recorder()
        assert isinstance(recorder, AnswersBeforeTheEvents)
        try:
            yield recorder
        finally:
            factory.datastore.close()


def a_store(settings: Settings) -> Environment:
    env = store_env(settings, "reacting")
    env["POSTGRES_MAX_OVERFLOW"] = "0"
    env["PROCESS_RECORDER_TOPIC"] = f"{__name__}:{AnswersBeforeTheEvents.__name__}"
    return Environment("reacting", env)


def a_stored_event() -> StoredEvent:
    return StoredEvent(uuid.uuid4(), 1, "tests:Happened", b"{}")


def record(recorder: AnswersBeforeTheEvents, *positions: int) -> None:
    """Record one event with the tracking rows of `positions` (a batch's, when more than one)."""
    first, *more = [Tracking("upstream", position) for position in positions]
    recorder.attempts = 0
    recorder.insert_events([a_stored_event()], tracking=first, **{MORE_TRACKING: more})


@pytest.mark.parametrize("batch", [(), (11, 12)], ids=["alone", "last of a batch"])
def test_a_redelivered_event_whose_duplicate_comes_back_before_its_events_go_out_is_a_duplicate(
    recorder: AnswersBeforeTheEvents, batch: tuple[int, ...]
) -> None:
    record(recorder, 1)
    with pytest.raises(IntegrityError):  # not an OperationalError: the store is there
        record(recorder, *batch, 1)
    assert recorder.attempts == 1, "a duplicate is not retried as a store away"
    record(recorder, 2)  # the next event
    assert recorder.max_tracking_id("upstream") == 2
    assert len(recorder.select_notifications(start=None, limit=10)) == 2


def test_a_store_whose_connection_is_cut_as_it_records_an_event_records_it_again(
    recorder: AnswersBeforeTheEvents, postgres: Postgres
) -> None:
    """A connection lost is an OperationalError, not a duplicate: the recorder tries again, and records it."""

    def cut_once(curs: Cursor[DictRow]) -> None:
        recorder.before_the_events = None
        with postgres.connect() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (curs.connection.info.backend_pid,))

    record(recorder, 1)
    recorder.before_the_events = cut_once
    record(recorder, 2)
    assert recorder.attempts == 2
    assert recorder.max_tracking_id("upstream") == 2
    assert len(recorder.select_notifications(start=None, limit=10)) == 2
