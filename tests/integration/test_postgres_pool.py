"""The store's pool lends live connections without a ping each, and still never lends a dead one: a
connection whose backend was terminated (as a PostgreSQL restart terminates them all) is dropped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import Environment
from psycopg_pool import ConnectionPool

from services.chassis.storage.postgres import DeskPostgresFactory, check_unless_quiet
from services.chassis.storage.store import store_env
from tests.harness import Desk
from tests.infra import Postgres


@pytest.fixture
def datastore(postgres: Postgres) -> Iterator[PostgresDatastore]:
    """A one-connection pool on a fresh database, as the services build it."""
    with postgres.fresh_settings() as settings:
        env = store_env(settings.model_copy(update={"postgres_pool_size": 1}), "pooled")
        env["POSTGRES_MAX_OVERFLOW"] = "0"  # one connection, not one more opened meanwhile and lent in turn
        factory = DeskPostgresFactory(Environment("pooled", env))
        try:
            yield factory.datastore
        finally:
            factory.datastore.close()


def pinged(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The pings sent from now on (each connection pinged)."""
    calls: list[Any] = []
    ping = ConnectionPool.check_connection

    def counted(conn: Any) -> None:
        calls.append(conn)
        ping(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", counted)
    return calls


def backend_of(datastore: PostgresDatastore) -> int:
    with datastore.get_connection() as conn:
        return int(conn.info.backend_pid)


def test_the_store_pool_checks_connections_with_the_quiet_check(datastore: PostgresDatastore) -> None:
    assert datastore.pool._check is check_unless_quiet


def test_a_live_idle_connection_is_lent_again_without_a_ping(
    datastore: PostgresDatastore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = backend_of(datastore)
    pings = pinged(monkeypatch)
    assert [backend_of(datastore) for _ in range(5)] == [first] * 5
    assert pings == []


def test_a_connection_whose_backend_was_terminated_is_dropped_and_a_live_one_lent(
    datastore: PostgresDatastore, postgres: Postgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = backend_of(datastore)
    with postgres.connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", [dead])  # waits until the backend is gone
    pings = pinged(monkeypatch)

    with datastore.get_connection() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
        assert conn.info.backend_pid != dead
    assert len(pings) == 1, "the dead connection had something to read (its end): pinged, failed, dropped"


def test_each_process_names_its_connections_by_service_and_role(desk: Desk, postgres: Postgres) -> None:
    desk.service("routing", "consumer").start()
    desk.service("intake", "relay").start()
    with postgres.connect() as admin:
        rows = admin.execute(
            "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = %s",
            [desk.env["POSTGRES_DBNAME"]],
        ).fetchall()
    names = {row[0] for row in rows}
    assert {"routing consumer", "intake relay"} <= names, names
    assert "" not in names, "no connection of the desk's is unnamed"
