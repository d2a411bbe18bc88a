"""A read model's transaction on PostgreSQL goes out as one pipeline, BEGIN and COMMIT included
(services/chassis/storage/pipelined.py): all of it commits, or none of it, and the connection goes back to
the pool ready for the next caller, whatever failed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from psycopg.pq import TransactionStatus

from services.chassis.storage.pipelined import one_round_trip
from services.chassis.storage.store import tracking_recorder
from services.chassis.storage.views import SqlView
from tests.infra import Postgres

VIEW = "pipelined"


@pytest.fixture
def view(postgres: Postgres) -> Iterator[SqlView]:
    with postgres.fresh_settings() as settings:
        view = SqlView(
            tracking_recorder(settings, VIEW),
            ["CREATE TABLE IF NOT EXISTS pipelined_notes (n INTEGER PRIMARY KEY, note TEXT NOT NULL)"],
            name=VIEW,
        )
        yield view
        view.datastore.close()


def notes(view: SqlView) -> list[tuple[int, str]]:
    return [(row["n"], row["note"]) for row in view.query("SELECT n, note FROM pipelined_notes ORDER BY n")]


def test_a_batch_commits_its_rows_and_its_tracking_together(view: SqlView) -> None:
    with view.transaction(Tracking(VIEW, 1), Tracking(VIEW, 2)) as sql:
        sql.execute("INSERT INTO pipelined_notes VALUES (1, 'one')")
        sql.execute("INSERT INTO pipelined_notes VALUES (2, 'two') RETURNING n")
        assert sql.rows() == [{"n": 2}]  # read inside the pipeline, before its end
        sql.execute("UPDATE pipelined_notes SET note = 'first' WHERE n = 1")
    assert notes(view) == [(1, "first"), (2, "two")]
    assert view.recorder.max_tracking_id(VIEW) == 2


def test_a_batch_applied_before_writes_nothing_and_the_next_one_goes_on(view: SqlView) -> None:
    with view.transaction(Tracking(VIEW, 1)) as sql:
        sql.execute("INSERT INTO pipelined_notes VALUES (1, 'one')")
    with pytest.raises(IntegrityError), view.transaction(Tracking(VIEW, 2), Tracking(VIEW, 1)) as sql:
        sql.execute("INSERT INTO pipelined_notes VALUES (2, 'two')")
    assert notes(view) == [(1, "one")]
    assert view.recorder.max_tracking_id(VIEW) == 1
    for n in (2, 3, 4):  # the pool's connections lent again, none left in the failed transaction
        with view.transaction(Tracking(VIEW, n)) as sql:
            sql.execute("INSERT INTO pipelined_notes VALUES (:n, 'next')", {"n": n})
    assert notes(view) == [(1, "one"), (2, "next"), (3, "next"), (4, "next")]


def test_a_failing_statement_in_the_middle_undoes_the_statements_before_it(view: SqlView) -> None:
    def batch() -> None:
        with view.transaction(Tracking(VIEW, 1)) as sql:
            sql.execute("INSERT INTO pipelined_notes VALUES (1, 'one')")
            sql.execute("INSERT INTO pipelined_notes VALUES (1, 'again')")
            sql.execute("INSERT INTO pipelined_notes VALUES (2, 'two')")

    with pytest.raises(IntegrityError):
        batch()
    assert notes(view) == []
    assert view.recorder.max_tracking_id(VIEW) is None


def test_an_error_raised_by_the_batch_itself_rolls_back_what_was_sent(view: SqlView) -> None:

    def batch() -> None:
        with view.transaction(Tracking(VIEW, 1)) as sql:
            sql.execute("INSERT INTO pipelined_notes VALUES (1, 'one')")
            sql.execute("SELECT n FROM pipelined_notes")
            assert sql.rows() == [{"n": 1}]  # sent and run inside the transaction
            raise RuntimeError("the projection failed")

    with pytest.raises(RuntimeError, match="the projection failed"):
        batch()
    assert notes(view) == []
    with view.transaction(Tracking(VIEW, 1)) as sql:
        sql.execute("INSERT INTO pipelined_notes VALUES (1, 'one')")
    assert notes(view) == [(1, "one")]


def test_statements_run_often_enough_to_be_prepared_survive_a_failed_batch(view: SqlView) -> None:
    """psycopg prepares a statement after its fifth run; a rollback makes it forget them (postgres.py)."""
    for n in range(1, 8):
        with view.transaction(Tracking(VIEW, n)) as sql:
            sql.execute("INSERT INTO pipelined_notes VALUES (:n, 'note')", {"n": n})
    with pytest.raises(IntegrityError), view.transaction(Tracking(VIEW, 8)) as sql:
        sql.execute("INSERT INTO pipelined_notes VALUES (:n, 'note')", {"n": 7})
    for n in range(8, 12):
        with view.transaction(Tracking(VIEW, n)) as sql:
            sql.execute("INSERT INTO pipelined_notes VALUES (:n, 'note')", {"n": n})
    assert [n for n, _ in notes(view)] == list(range(1, 12))


@pytest.fixture
def connection(postgres: Postgres) -> Iterator[psycopg.Connection[Any]]:
    with postgres.fresh_database() as dbname, postgres.connect(dbname) as conn:
        conn.execute("CREATE TABLE notes (n INTEGER PRIMARY KEY)")
        yield conn


def test_a_connection_comes_out_of_a_failed_transaction_idle(connection: psycopg.Connection[Any]) -> None:
    """Not in a failed transaction for the pool to find (it would roll back, and warn) or the next caller."""

    def failing() -> None:
        with one_round_trip(connection) as cursor:
            cursor.execute("INSERT INTO notes VALUES (1)")
            cursor.execute("INSERT INTO notes VALUES (1)")

    with pytest.raises(psycopg.errors.UniqueViolation):
        failing()
    assert connection.info.transaction_status == TransactionStatus.IDLE
    assert connection.execute("SELECT count(*) FROM notes").fetchone() == (0,)


def test_a_connection_comes_out_of_a_transaction_its_block_broke_off_idle(
    connection: psycopg.Connection[Any],
) -> None:
    def broken_off() -> None:
        with one_round_trip(connection) as cursor:
            cursor.execute("INSERT INTO notes VALUES (1)")
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        broken_off()
    assert connection.info.transaction_status == TransactionStatus.IDLE
    assert connection.execute("SELECT count(*) FROM notes").fetchone() == (0,)


def test_a_connection_out_of_autocommit_is_refused(connection: psycopg.Connection[Any]) -> None:
    connection.autocommit = False
    with pytest.raises(ValueError, match="autocommit"), one_round_trip(connection):
        pass
