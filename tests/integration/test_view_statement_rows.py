"""Each statement of a read model's transaction reads its own rows, whatever the server sent before.

On PostgreSQL a view's transaction is one pipeline, and the server may send a statement's result while later
ones are still going out: when its send buffer fills, and as it shuts down (it flushes what it has before its
FATAL). psycopg hands a result it reads then to the cursor that ran the statement. A cursor shared by every
statement then held an earlier statement's result when a later one asked for its rows, and psycopg gave that
result without waiting for the right one: the intake api's ticket list stopped on `the last operation didn't
produce records (command status: INSERT 0 1)` while PostgreSQL was being stopped
(tests/integration/test_faults.py), where the shutdown's error should have made it retry. Had the earlier
statement returned rows, they would have been read as the later one's, without an error."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder
from services.chassis.storage.views import Sql, SqlView
from tests.infra import Postgres

ROWS = 20


@pytest.fixture
def view(postgres: Postgres) -> Iterator[SqlView]:
    with postgres.fresh_settings() as settings:
        yield a_view(settings)


def a_view(settings: Settings) -> SqlView:
    return SqlView(
        tracking_recorder(settings, "statement_rows"),
        ["CREATE TABLE IF NOT EXISTS statement_rows (n INTEGER PRIMARY KEY, note TEXT NOT NULL)"],
        name="statement_rows",
    )


def the_server_sends_what_it_has(sql: Sql) -> None:
    """Have the server send the results it holds, and give them time to arrive before the next statement."""
    sql.cursor.connection.pgconn.send_flush_request()
    sql.cursor.connection.pgconn.flush()
    time.sleep(0.05)


@pytest.mark.parametrize(
    "earlier",
    [
        "INSERT INTO statement_rows VALUES (:n, 'new')",  # no rows: the flake's `INSERT 0 1`
        "INSERT INTO statement_rows VALUES (:n, 'new') RETURNING note",  # rows, once read as the later one's
    ],
)
def test_a_statement_reads_its_own_rows_after_the_server_sent_an_earlier_result(view: SqlView, earlier: str) -> None:
    read: list[object] = []
    with view.transaction() as sql:
        for n in range(ROWS):
            sql.execute(earlier, {"n": n})
            the_server_sends_what_it_has(sql)
            sql.execute("UPDATE statement_rows SET note = 'seen' WHERE n = :n RETURNING n", {"n": n})
            read.extend(row["n"] for row in sql.rows())
    assert read == list(range(ROWS))
