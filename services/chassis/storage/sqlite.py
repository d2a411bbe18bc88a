"""eventsourcing's SQLite persistence, with writes that wait for the lock instead of failing.

Under `make run` one service's database file has many writers at once, each on a pool of its
own (the application, the relay's tracking, every projector and view). eventsourcing opens every
transaction with a plain (deferred) `BEGIN`: a transaction that reads before it writes (a view
checking what it holds, a tracking recorder checking its table) then fails with
`database is locked` *at once* when another connection committed since its read began: SQLite
cannot upgrade a stale snapshot to a writer, and its busy timeout does not apply
(SQLITE_BUSY_SNAPSHOT). Here a writing transaction begins `BEGIN IMMEDIATE`: it takes the
write lock first, waiting for it (the busy timeout, in SQLite), so whatever it reads is current
and nothing later in it can be refused for the lock. Should even that wait run out (a long
rebuild batch holding the lock), the `BEGIN IMMEDIATE` is tried again, with a pause, until
`RETRY_SECONDS` have passed: nothing of the transaction has run yet, so a retry is safe.
Readers (WAL mode, which eventsourcing sets) never wait for writers.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from eventsourcing.sqlite import (
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteTransaction,
)
from eventsourcing.utils import Environment, EnvType

from services.chassis.runtime.retries import Backoff
from services.chassis.storage.eventsourcing_adapter import raw_sqlite_connection

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0
POOL_TIMEOUT = 30.0  # waiting for the pool's one writer connection: as long as for the lock itself


class WritingFirstTransaction(SQLiteTransaction):
    """A transaction that takes the write lock before its first statement when it will commit."""

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        if not self.commit:
            cursor.execute("BEGIN")
            return cursor
        deadline, backoff = time.monotonic() + RETRY_SECONDS, Backoff(initial=0.05, maximum=1.0)
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                pause = backoff.failed()
                if not _busy(error) or time.monotonic() + pause > deadline:
                    cursor.sqlite_cursor.close()
                    raise
                log.debug("waiting for the write lock of the store: %r", error)
                time.sleep(pause)
                continue
            return cursor


class DeskSQLiteConnection(SQLiteConnection):
    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        with WritingFirstTransaction(self, commit=commit) as cursor, cursor:
            yield cursor


class DeskSQLiteConnectionPool(SQLiteConnectionPool):
    def _create_connection(self) -> SQLiteConnection:  # eventsourcing's hook (see eventsourcing_adapter)
        connection = super()._create_connection()
        return DeskSQLiteConnection(raw_sqlite_connection(connection), max_age=self.max_age)


class DeskSQLiteDatastore(SQLiteDatastore):
    def __init__(
        self,
        db_name: str,
        *,
        lock_timeout: int | None,
        single_row_tracking: bool,
        originator_id_type: Literal["uuid", "text"],
    ) -> None:
        self.pool = DeskSQLiteConnectionPool(db_name=db_name, lock_timeout=lock_timeout, pool_timeout=POOL_TIMEOUT)
        self.single_row_tracking = single_row_tracking
        self.originator_id_type = originator_id_type


class DeskSQLiteFactory(SQLiteFactory):
    """eventsourcing's SQLite factory (the same environment variables) on the datastore above."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        plain = self.datastore
        self.datastore = DeskSQLiteDatastore(
            plain.pool.db_name,
            lock_timeout=plain.pool.lock_timeout,
            single_row_tracking=plain.single_row_tracking,
            originator_id_type=plain.originator_id_type,
        )
        plain.close()


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or (
        "locked" in str(error) or "busy" in str(error)
    )
