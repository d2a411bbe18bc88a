"""Two writers on one SQLite file, each on a pool of its own (as a service's application and its
views are): every read-then-write transaction commits, none fails with `database is locked`."""

from __future__ import annotations

import threading
from pathlib import Path

from eventsourcing.sqlite import SQLiteDatastore, SQLiteFactory
from eventsourcing.utils import Environment

from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env

ROUNDS = 150


def counting(tmp_path: Path, writers: int) -> tuple[int, list[Exception]]:
    """`writers` threads, each with its own datastore, add 1 to a counter `ROUNDS` times (read, then write)."""
    env = store_env(Settings(persistence="sqlite", data_dir=tmp_path), "counter")
    stores = [SQLiteFactory.construct(Environment("counter", env)).datastore for _ in range(writers)]
    with stores[0].transaction(commit=True) as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS counter (n INTEGER NOT NULL)")
        cursor.execute("INSERT INTO counter VALUES (0)")
    errors: list[Exception] = []

    def add(store: SQLiteDatastore) -> None:
        for _ in range(ROUNDS):
            try:
                with store.transaction(commit=True) as cursor:
                    cursor.execute("SELECT n FROM counter")
                    n = cursor.fetchone()[0]
                    cursor.execute("UPDATE counter SET n = ?", (n + 1,))
            except Exception as error:  # noqa: BLE001 - counted, asserted below
                errors.append(error)

    threads = [threading.Thread(target=add, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with stores[0].transaction(commit=False) as cursor:
        cursor.execute("SELECT n FROM counter")
        total: int = cursor.fetchone()[0]
    for store in stores:
        store.close()
    return total, errors


def test_writers_on_pools_of_their_own_wait_for_each_other_instead_of_failing(tmp_path: Path) -> None:
    total, errors = counting(tmp_path, writers=3)
    assert errors == []
    assert total == 3 * ROUNDS  # and no update was lost
