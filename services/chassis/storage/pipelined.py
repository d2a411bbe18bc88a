"""A PostgreSQL transaction sent as one pipeline: BEGIN, its statements and COMMIT in one round trip.

psycopg's `transaction()` inside a pipeline syncs at its start and at its end (so that an error belongs to
the block it happened in), and outside one its BEGIN and COMMIT are round trips of their own: a read
model's batch cost three round trips besides its statements, a fixed cost that weighs most at the few events
a batch of the live projectors and consumers under load (`python -m bench.ticket_list`: with the ticket list's
own reads gone too, a quarter less CPU an event at eight a batch). Here the pool's connection, in autocommit, is
sent BEGIN and COMMIT as statements of the pipeline. A statement that fails makes the server skip the rest,
COMMIT included, until the pipeline's sync, which raises its error; the transaction, left failed (or open, when
the block itself raised), is then rolled back by psycopg's own `rollback`, which also forgets the connection's
prepared statements as its transactions do (services/chassis/storage/postgres.py says why that matters).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus


@contextmanager
def one_round_trip(conn: psycopg.Connection[Any]) -> Iterator[psycopg.Cursor[Any]]:
    """A cursor whose statements commit together at the block's end, or none of them (`conn` in autocommit)."""
    if not conn.autocommit:
        raise ValueError("a pipelined transaction takes a connection in autocommit")
    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            # A cursor of the block's own: on BEGIN's cursor, a read could be handed BEGIN's result, had it come
            # back meanwhile (tests/integration/test_view_statement_rows.py says how).
            yield conn.cursor()
            conn.execute("COMMIT")
    except BaseException:
        if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
            with contextlib.suppress(psycopg.Error):  # a broken connection: the pool drops it
                conn.rollback()
        raise
