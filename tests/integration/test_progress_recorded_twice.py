"""A commit that went through but whose answer was lost (PostgreSQL went away right after COMMIT) is
retried, and the retry finds its progress already recorded. Every writer of progress takes that as
done and carries on: the relay keeps publishing, a projector reads on; a consumer's decision, whose
events the store's retry finds as it sent them, is answered as recorded (early_errors.py).

The store's datastore here loses the answer of its next committing transaction once it is armed:
the transaction commits, then the caller sees the error a broken connection raises.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from eventsourcing.persistence import IntegrityError, OperationalError, Tracking

from services.chassis.messaging.kafka import ensure_topics
from services.chassis.messaging.relay import Relay, published_on, validated
from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.leadership import lease
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.retries import retry_async
from services.chassis.runtime.settings import Settings
from services.chassis.storage.processing import commit, commit_batch, find
from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.store import tracking_recorder
from tests.infra import Kafka, Postgres
from tests.integration.test_store_wake import Note, Notebook, Notes, envelope, notebook

pytestmark = pytest.mark.infra

PROMPTLY = 20.0
TRACKING = "notebook_tracking"


@pytest.fixture
def settings(postgres: Postgres, tmp_path: Path) -> Iterator[Settings]:
    with postgres.fresh_settings() as fresh:
        yield fresh.model_copy(update={"data_dir": tmp_path})


def losing_answers(datastore: Any, table: str) -> threading.Event:
    """Make `datastore` lose, once the event is set, the answer of the next connection use that added a row
    to `table` (the tracking rows): it committed, then its caller sees what a broken connection raises.
    Uses from the test's own thread (its writes) are left alone."""
    real = datastore.get_connection
    armed = threading.Event()

    def rows() -> int:
        with real() as connection:
            return int(connection.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"])

    @contextmanager
    def get_connection() -> Iterator[Any]:
        if not armed.is_set() or threading.current_thread() is threading.main_thread():
            with real() as connection:
                yield connection
            return
        before = rows()
        with real() as connection:
            yield connection
        if armed.is_set() and rows() > before:
            armed.clear()
            raise OperationalError("server closed the connection unexpectedly (after COMMIT)")

    datastore.get_connection = get_connection
    return armed


async def test_a_relay_whose_progress_was_recorded_though_its_answer_was_lost_keeps_publishing(
    settings: Settings, kafka: Kafka
) -> None:
    topic = f"answer-lost-{uuid.uuid4().hex[:8]}.notes"
    await ensure_topics(kafka.bootstrap, [topic], partitions=1)
    app = notebook(settings)
    relay = Relay(
        app, validated(published_on(topic, Note.Written, envelope, app)),  # type: ignore[attr-defined]
        kafka.bootstrap, Metrics("notebook"), idle_seconds=0.2, lease=lease(settings, f"notebook-relay-{topic}"),
    )  # fmt: skip
    lose_next_answer = losing_answers(relay.tracker.datastore, TRACKING)  # type: ignore[attr-defined]
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    stopping = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stopping))
    try:
        async with asyncio.timeout(PROMPTLY):
            while not relay.connected:
                await asyncio.sleep(0.05)
        lose_next_answer.set()
        first = app.write("recorded, but the relay never heard so")
        positions: list[int] = []
        async with asyncio.timeout(PROMPTLY):
            while lose_next_answer.is_set() or relay.position < first:  # published, recorded, retried
                assert not relaying.done(), relaying.exception()
                await asyncio.sleep(0.05)
        second = app.write("written after the lost answer")
        async with asyncio.timeout(PROMPTLY):
            while second not in positions:
                record = await consumer.getone()
                positions.append(int(dict(record.headers)["ce_position"]))
        async with asyncio.timeout(PROMPTLY):
            while relay.position < second:
                assert not relaying.done(), relaying.exception()
                await asyncio.sleep(0.05)
        assert positions == [first, first, second], "published again after the lost answer (a duplicate), then on"
        assert relay.tracker.max_tracking_id("kafka-relay") == second
    finally:
        stopping.set()
        await asyncio.wait_for(relaying, PROMPTLY)
        await consumer.stop()


def test_a_consumers_decision_recorded_though_its_answer_was_lost_is_answered_as_recorded_on_retry(
    settings: Settings,
) -> None:
    """The store's retry finds the decision's events as it sent them: the consumer hears it recorded, once."""
    app = notebook(settings)
    lose_next_answer = losing_answers(app.recorder.datastore, TRACKING)  # type: ignore[attr-defined]
    note = Note("the printer is on fire")
    tracking = Tracking("intake", 7)
    lose_next_answer.set()

    recordings = asyncio.run(
        retry_async(lambda: asyncio.to_thread(commit, app, lambda: [note], tracking), TRANSIENT_STORE_ERRORS)
    )

    assert not lose_next_answer.is_set(), "the first commit went through, its answer lost"
    assert find(app, note.id, Note) is not None
    stored = list(app.recorder.select_notifications(1, 10))
    assert [n.id for n in stored] == [r.notification.id for r in recordings], "recorded once, answered so"
    with pytest.raises(IntegrityError):  # the event delivered again: a duplicate
        commit(app, lambda: [Note("the printer is on fire")], tracking)


def test_a_consumers_batch_recorded_though_its_answer_was_lost_is_answered_as_recorded_on_retry(
    settings: Settings,
) -> None:
    app = notebook(settings)
    lose_next_answer = losing_answers(app.recorder.datastore, TRACKING)  # type: ignore[attr-defined]
    notes = [Note(f"note {n}") for n in range(3)]
    trackings = [Tracking("intake", 10 + n) for n in range(3)]

    def run(k: int) -> None:
        commit(app, lambda: [notes[k]], trackings[k])

    lose_next_answer.set()
    skipped = asyncio.run(
        retry_async(lambda: asyncio.to_thread(commit_batch, app, trackings, run), TRANSIENT_STORE_ERRORS)
    )

    assert skipped == set(), "the batch's own events found as sent: recorded, none of them a duplicate"
    assert len(list(app.recorder.select_notifications(1, 10))) == 3, "recorded once"


def test_a_projector_whose_batch_was_recorded_though_its_answer_was_lost_reads_on(settings: Settings) -> None:
    app = notebook(settings)
    view = Notes(tracking_recorder(settings, Notebook.name))
    projector = StoreProjector(app, view)
    lose_next_answer = losing_answers(view.view.datastore, TRACKING)
    first = app.write("recorded, but the projector never heard so")
    lose_next_answer.set()

    with pytest.raises(OperationalError):
        asyncio.run(asyncio.to_thread(projector.step))  # as its loop does, off the event loop's thread
    projector.step()  # again, as its loop does after a store error
    second = app.write("written after the lost answer")
    projector.catch_up()

    assert view.position() == second > first
    assert len(view.view.query("SELECT text FROM notes")) == 2
