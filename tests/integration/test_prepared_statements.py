"""A store connection that met a redelivered event goes on recording: no statement is taken as prepared on
the server when a failed statement before it in the same pipeline made the server skip its preparation
(services/chassis/storage/postgres.py). Consumers halted on `prepared statement "_pg3_N" does not exist`
after a Kafka restart redelivered what they had handled, and analytics' after a rebuild had tracked what
it was then given again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, ProcessRecorder, StoredEvent, Tracking
from eventsourcing.utils import Environment

from schemas.registry import parse_data, typed
from services.analytics.projections import AnalyticsProjection
from services.analytics.rebuild import rebuild
from services.chassis.messaging.batching import in_view
from services.chassis.runtime.settings import Settings
from services.chassis.storage.postgres import DeskPostgresFactory
from services.chassis.storage.store import store_env, tracking_recorder
from tests.infra import Postgres
from tests.unit.test_envelope import an_envelope

ROUNDS = 12  # well past the fifth run of a statement, after which psycopg would prepare it unasked


@pytest.fixture
def settings(postgres: Postgres) -> Iterator[Settings]:
    """A store of one connection, so that every statement runs on the connection an earlier one left."""
    with postgres.fresh_settings() as fresh:
        yield fresh.model_copy(update={"postgres_pool_size": 1})


def one_connection(settings: Settings, name: str) -> Environment:
    env = store_env(settings, name)
    env["POSTGRES_MAX_OVERFLOW"] = "0"
    return Environment(name, env)


def a_stored_event() -> StoredEvent:
    return StoredEvent(uuid.uuid4(), 1, "tests:Happened", b"{}")


def test_a_consumer_store_that_met_a_redelivered_event_records_the_next_ones(settings: Settings) -> None:
    """Routing's and SLA's consumers record decisions with eventsourcing's process recorder, which sends
    its statements (the tracking row, NOTIFY, the events) in one pipeline."""
    factory = DeskPostgresFactory(one_connection(settings, "reacting"))
    recorder: ProcessRecorder = factory.process_recorder()
    try:
        for position in range(1, ROUNDS + 1):
            recorder.insert_events([a_stored_event()], tracking=Tracking("upstream", position))
            with pytest.raises(IntegrityError):  # the same upstream event again: a duplicate
                recorder.insert_events([a_stored_event()], tracking=Tracking("upstream", position))
        assert recorder.max_tracking_id("upstream") == ROUNDS
    finally:
        factory.datastore.close()


def ticket_event(position: int, kind: str, data: dict[str, Any]) -> tuple[Any, ...]:
    envelope = an_envelope(position=position, type=kind, data=data)
    return envelope, parse_data(envelope), Tracking("intake", position)


def opened(position: int) -> tuple[Any, ...]:
    return ticket_event(position, "ticket.opened", {
        "ticket_id": str(uuid.uuid4()), "number": f"SD-2026-{position:06d}", "requester_id": "c",
        "channel": "email", "category": "network", "type": "incident", "priority": "P2", "tags": [],
    })  # fmt: skip


def test_analytics_rebuilt_while_its_consumer_runs_goes_on_with_the_events_after(settings: Settings) -> None:
    """The live consumer applies events (alone and in batches) on its own connection; a rebuild replaces
    the tables meanwhile and tracks everything; the consumer is then given those events again (as Kafka
    redelivers what it had not committed) and new ones, one at a time and in batches."""
    live = AnalyticsProjection(tracking_recorder(settings, "analytics"))
    apply_batch = in_view(live.view, live.apply_many)
    events = [opened(position) for position in range(1, 2 * ROUNDS + 1)]
    for event in events[:ROUNDS]:
        live.apply(*event)
    rebuilder = AnalyticsProjection(tracking_recorder(settings, "analytics"))
    try:
        page = [typed(envelope.model_dump()) for envelope, _, _ in events[: ROUNDS + 2]]
        rebuilt = rebuild(rebuilder, {"intake": iter([page])}, progress=None)
    finally:
        rebuilder.view.datastore.close()
    assert rebuilt.events == ROUNDS + 2
    for k in range(ROUNDS, 2 * ROUNDS):
        with pytest.raises(IntegrityError):
            live.apply(*events[k - ROUNDS])  # redelivered, and tracked: a duplicate
        if k < ROUNDS + 2:
            assert apply_batch([events[k], events[k]]) == {0, 1}, "the rebuild applied it"
        else:
            live.apply(*events[k])
    more = [opened(position) for position in range(2 * ROUNDS + 1, 2 * ROUNDS + 4)]
    assert apply_batch([events[0], *more]) == {0}
    assert live.applied_count("intake") == 2 * ROUNDS + 3
    assert len(live.rows()["tickets"]) == 2 * ROUNDS + 3


def test_a_statement_prepared_after_a_pipeline_dropped_a_table_runs_again(settings: Settings) -> None:
    """A view's tables are set up in one pipeline, and analytics' drop a table of an older version. After a
    DROP psycopg forgets the connection's prepared statements and deallocates them all on the server; but when
    it reads the DROP's result at the pipeline's end, it sends that deallocation only after the connection's
    next statement, so a statement prepared then was deallocated with the rest while psycopg took it as
    prepared, and its next run failed with `prepared statement "_pg3_1" does not exist` (analytics' consumer,
    seconds after a restart, bench/faults.py)."""
    factory = DeskPostgresFactory(one_connection(settings, "dropping"))
    try:
        with factory.datastore.get_connection() as conn:
            conn.execute("SELECT 1", prepare=True)
            with conn.transaction(), conn.pipeline():
                conn.execute("CREATE TABLE IF NOT EXISTS kept (n INTEGER)")
                conn.execute("DROP TABLE IF EXISTS outdated")
                conn.execute("CREATE TABLE IF NOT EXISTS kept_too (n INTEGER)")
            for _ in range(ROUNDS):
                assert conn.execute("SELECT 2 AS two", prepare=True).fetchall() == [{"two": 2}]
    finally:
        factory.datastore.close()
