"""A command PostgreSQL committed, whose answer the connection lost, is answered as recorded, once
(services/chassis/storage/early_errors.py `insert_events`).

The store retries a save whose connection broke. When the lost attempt had committed, its events' versions
refuse the retry; before, the desk took that for another writer's win, decided the command again on a ticket
that now held it, and told the agent "this reply exists already" (422) or "the ticket is resolved" (409) for a
reply or a resolution it had recorded. The proxy here (tests/lost_commits.py) lets the server commit and cuts
the connection before its answer reaches the desk.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.persistence import ProcessRecorder, StoredEvent, Tracking

from services.chassis.runtime.settings import Settings
from services.chassis.storage.postgres import DeskPostgresFactory
from services.chassis.storage.store import store_env
from services.intake.tickets.cause import Cause
from services.intake.tickets.events.conversation import CommentAdded
from services.intake.tickets.events.lifecycle import Resolved
from services.intake.tickets.form import TicketForm
from services.intake.tickets.vocabulary import Status
from tests.infra import Postgres
from tests.lost_commits import CommitAnswerLoser, commit_answer_loser
from tests.privacy import desk_intake

AGENT = Cause("acme", "agent-7", "corr-lost-answer", "web")
FORM = TicketForm("Printer jam", "Tray 2 jams", "c-1", "email", "hardware", "incident", "P3", ["printer"])


@pytest.fixture
def settings(postgres: Postgres) -> Iterator[Settings]:
    with postgres.fresh_settings() as fresh:
        yield fresh


@pytest.fixture
def proxy(settings: Settings) -> Iterator[CommitAnswerLoser]:
    with commit_answer_loser(settings.postgres_host, settings.postgres_port) as loser:
        yield loser


def through(proxy: CommitAnswerLoser, settings: Settings) -> Settings:
    return settings.model_copy(update={"postgres_host": "127.0.0.1", "postgres_port": proxy.port})


@pytest.fixture
def recorder(proxy: CommitAnswerLoser, settings: Settings) -> Iterator[ProcessRecorder]:
    recorder = DeskPostgresFactory(store_env(through(proxy, settings), "lost_answers")).process_recorder()
    yield recorder
    recorder.datastore.close()  # type: ignore[attr-defined]


def event(stream: uuid.UUID, version: int, state: bytes = b'{"said":"hello"}') -> StoredEvent:
    return StoredEvent(stream, version, "tests:Said", state)


def stored(recorder: ProcessRecorder, stream: uuid.UUID) -> list[StoredEvent]:
    return list(recorder.select_events(stream))


def test_events_whose_commit_answer_was_lost_are_answered_with_the_positions_they_were_given(
    recorder: ProcessRecorder, proxy: CommitAnswerLoser
) -> None:
    stream = uuid.uuid4()
    recorder.insert_events([event(stream, 1)], tracking=Tracking("upstream", 1))
    proxy.lose_next()
    ids = recorder.insert_events([event(stream, 2), event(stream, 3)], tracking=Tracking("upstream", 2))
    assert proxy.lost == 1
    assert [e.originator_version for e in stored(recorder, stream)] == [1, 2, 3]
    notifications = recorder.select_notifications(start=None, limit=10)
    assert ids == [n.id for n in notifications if n.originator_version in (2, 3)]
    assert recorder.max_tracking_id("upstream") == 2


def test_only_this_attempts_own_events_byte_for_byte_are_taken_for_its_commit(recorder: ProcessRecorder) -> None:
    """A retry in doubt refused by another writer's events at its versions is refused still: a lost race."""
    stream = uuid.uuid4()
    first = event(stream, 1, b'{"said":"first"}')
    [position] = recorder.insert_events([first]) or []
    recorded_as_sent: Any = recorder._recorded_as_sent  # type: ignore[attr-defined]
    assert recorded_as_sent([first]) == [position]
    assert recorded_as_sent([event(stream, 1, b'{"said":"second"}')]) is None
    assert recorded_as_sent([StoredEvent(stream, 1, "tests:Shouted", first.state)]) is None
    assert recorded_as_sent([first, event(stream, 2)]) is None


def comments_and_resolutions(settings: Settings, ticket: uuid.UUID) -> list[str]:
    """The ticket's stored events of those kinds, read by a reader of its own, straight from PostgreSQL."""
    reader = desk_intake(settings)
    try:
        kinds = (CommentAdded, Resolved)
        return [type(e).__name__ for e in reader.events.get(ticket) if isinstance(e, kinds)]
    finally:
        reader.close()


def test_a_reply_whose_commit_answer_was_lost_is_answered_as_recorded_and_recorded_once(
    proxy: CommitAnswerLoser, settings: Settings
) -> None:
    intake = desk_intake(through(proxy, settings))
    try:
        ticket = intake.open_ticket(uuid.uuid4(), FORM, AGENT).ticket.id
        proxy.lose_next()
        replied = intake.comment(ticket, AGENT, "reply-1", "Try tray 1 meanwhile", True, "web", staff=True)
    finally:
        intake.close()
    assert proxy.lost == 1
    assert len(replied.comments) == 1
    assert comments_and_resolutions(settings, ticket) == ["CommentAdded"]


def test_a_resolution_whose_commit_answer_was_lost_is_answered_as_recorded_and_recorded_once(
    proxy: CommitAnswerLoser, settings: Settings
) -> None:
    intake = desk_intake(through(proxy, settings))
    try:
        ticket = intake.open_ticket(uuid.uuid4(), FORM, AGENT).ticket.id
        intake.start_work(ticket, AGENT, "on it")
        proxy.lose_next()
        resolved = intake.resolve(ticket, AGENT, "replaced the roller", "fixed")
    finally:
        intake.close()
    assert proxy.lost == 1
    assert resolved.status == Status.RESOLVED
    assert comments_and_resolutions(settings, ticket) == ["Resolved"]
