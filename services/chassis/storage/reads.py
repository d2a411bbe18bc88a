"""Reads of one statement, without a transaction of their own on PostgreSQL.

eventsourcing's pooled PostgreSQL connections are in autocommit mode: a single SELECT is atomic and
sees one snapshot by itself, so wrapping it in a transaction (`datastore.transaction(commit=False)`)
adds only a BEGIN and a ROLLBACK, two more statements for the server and two more round trips. Under
READ COMMITTED, PostgreSQL's default, several statements in one transaction see a snapshot each
anyway, so dropping the transaction changes nothing a reader of several statements sees either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresDatastore


@contextmanager
def read_cursor(datastore: Any) -> Iterator[Any]:
    """A cursor for reads on `datastore` (its rows as the datastore makes them): on PostgreSQL without a
    transaction of its own, elsewhere in a transaction that is rolled back."""
    if isinstance(datastore, PostgresDatastore):
        with datastore.get_connection() as connection, connection.cursor() as cursor:
            yield cursor
    else:
        with datastore.transaction(commit=False) as cursor:
            yield cursor
