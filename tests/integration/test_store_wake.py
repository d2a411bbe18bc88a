"""A store's followers (the relay, the projectors) wake when it commits, not when they next poll.

Every follower here polls once a minute: whatever it picks up within seconds, a commit woke it.
On PostgreSQL the writer is another application (its own connections, as another process
or replica would be), so only the NOTIFY of its commit can reach the follower; on SQLite it is
the same application, as under `make run`, and its hook after recording wakes the follower.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from aiokafka import AIOKafkaConsumer
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from schemas.envelope import EnvelopeFields
from services.chassis.messaging.kafka import ensure_topics
from services.chassis.messaging.relay import Relay, published_on, validated
from services.chassis.runtime.leadership import lease
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.settings import Settings
from services.chassis.storage.processing import ProcessRecorderMixin
from services.chassis.storage.projector import SqlProjection, StoreProjector
from services.chassis.storage.store import store_env, tracking_recorder
from services.chassis.storage.views import Sql
from services.chassis.storage.wake import LISTENER_NAME, store_commits
from tests.infra import Kafka, Postgres

pytestmark = pytest.mark.infra

A_MINUTE = 60.0  # the followers' poll: far longer than any wait below
PROMPTLY = 10.0


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


class Notebook(ProcessRecorderMixin, Application[UUID]):
    name = "notebook"

    def write(self, text: str) -> int:
        """Record a new note; its store position."""
        recordings = self.save(Note(text))
        return recordings[-1].notification.id


class Notes(SqlProjection):
    name = "notes-view"
    schema = ("CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, text TEXT NOT NULL)",)

    def write(self, sql: Sql, event: Any) -> None:
        sql.execute("INSERT INTO notes VALUES (:id, :text)", {"id": str(event.originator_id), "text": event.text})


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(persistence="sqlite", data_dir=tmp_path)
        return
    postgres: Postgres = request.getfixturevalue("postgres")
    with postgres.fresh_settings() as fresh:
        yield fresh.model_copy(update={"data_dir": tmp_path})


def notebook(settings: Settings) -> Notebook:
    return Notebook(env=store_env(settings, Notebook.name))


def writer(settings: Settings, follower: Notebook) -> Notebook:
    """Who writes while `follower`'s store is followed: on PostgreSQL another application (as if
    another process), on SQLite the follower's own (one process writes and relays)."""
    return follower if settings.persistence == "sqlite" else notebook(settings)


@pytest.fixture
async def running() -> AsyncIterator[Callable[[Callable[[asyncio.Event], Coroutine[Any, Any, None]]], None]]:
    """Start a worker until the test ends."""
    stopping = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    yield lambda run: tasks.append(asyncio.create_task(run(stopping)))
    stopping.set()
    await asyncio.wait_for(asyncio.gather(*tasks), PROMPTLY)


async def until(condition: Callable[[], bool], seconds: float = PROMPTLY) -> None:
    async with asyncio.timeout(seconds):
        while not await asyncio.to_thread(condition):
            await asyncio.sleep(0.02)


async def test_a_projector_applies_a_commit_at_once_though_it_polls_once_a_minute(
    settings: Settings, running: Callable[..., None]
) -> None:
    follower = notebook(settings)
    notes = Notes(tracking_recorder(settings, Notebook.name))
    running(StoreProjector(follower, notes, idle_seconds=A_MINUTE).run)
    await asyncio.sleep(0.5)  # it read the empty store and waits

    position = writer(settings, follower).write("the printer is on fire")

    await until(lambda: notes.position() >= position)
    assert [row["text"] for row in notes.view.query("SELECT text FROM notes")] == ["the printer is on fire"]


async def test_a_relay_publishes_a_commit_at_once_though_it_polls_once_a_minute(
    settings: Settings, kafka: Kafka, running: Callable[..., None]
) -> None:
    topic = f"wake-{uuid.uuid4().hex[:8]}.notes"
    await ensure_topics(kafka.bootstrap, [topic], partitions=1)
    follower = notebook(settings)
    public = published_on(topic, Note.Written, envelope, follower)  # type: ignore[attr-defined]
    relay = Relay(
        follower, validated(public), kafka.bootstrap, Metrics("notebook"), idle_seconds=A_MINUTE,
        lease=lease(settings, f"notebook-relay-{topic}"),
    )  # fmt: skip
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        running(relay.run)
        await until(lambda: relay.connected)
        await asyncio.sleep(0.5)  # it read the empty store and waits

        position = writer(settings, follower).write("the printer is on fire")

        record = await asyncio.wait_for(consumer.getone(), PROMPTLY)
        assert dict(record.headers)["ce_position"] == str(position).encode()
    finally:
        await consumer.stop()


def envelope(note: Any, position: int) -> EnvelopeFields:
    return {
        "id": note.originator_id, "type": "note.written", "version": 1, "source": "notebook",
        "subject": str(note.originator_id), "tenant": "acme", "actor": "agent-7", "occurred_at": note.timestamp,
        "sequence": note.originator_version, "position": position, "correlation_id": "c", "causation_id": "c",
        "data": {"text": note.text},
    }  # fmt: skip


async def test_a_write_no_wake_up_reaches_is_read_at_the_next_poll(
    tmp_path: Path, running: Callable[..., None]
) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    follower = notebook(settings)
    notes = Notes(tracking_recorder(settings, Notebook.name))
    running(StoreProjector(follower, notes, idle_seconds=0.2).run)
    await asyncio.sleep(0.5)

    position = notebook(settings).write("written by another process")  # its hook wakes nobody here

    await until(lambda: notes.position() >= position)


@pytest.fixture
def pg_settings(postgres: Postgres, tmp_path: Path) -> Iterator[Settings]:
    with postgres.fresh_settings() as fresh:
        yield fresh.model_copy(update={"data_dir": tmp_path})


def listeners(postgres: Postgres, settings: Settings) -> list[int]:
    with postgres.connect() as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            (settings.postgres_dbname, LISTENER_NAME),
        ).fetchall()
    return [row[0] for row in rows]


async def test_a_follower_whose_listen_connection_is_killed_listens_again_and_misses_nothing(
    postgres: Postgres, pg_settings: Settings, running: Callable[..., None]
) -> None:
    follower = notebook(pg_settings)
    notes = Notes(tracking_recorder(pg_settings, Notebook.name))
    running(StoreProjector(follower, notes, idle_seconds=A_MINUTE).run)
    await until(lambda: store_commits(follower).listening)
    [killed] = listeners(postgres, pg_settings)

    with postgres.connect() as connection:
        connection.execute("SELECT pg_terminate_backend(%s)", (killed,))
    lost = writer(pg_settings, follower).write("committed while nobody listened")

    await until(lambda: notes.position() >= lost)  # read when it listened again
    await until(lambda: store_commits(follower).listening and listeners(postgres, pg_settings) not in ([], [killed]))
    position = writer(pg_settings, follower).write("committed once it listened again")
    await until(lambda: notes.position() >= position)
