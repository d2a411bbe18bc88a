"""When PostgreSQL comes back from a crash, a store whose connections were all found dead while it was down
lends one again within moments, not at the end of a wait between reconnection attempts that doubled all
the while PostgreSQL was down (1, 2, 4, 8, 16 s): intake's consumer waited out its pool's whole wait for a
connection, then its own retry, and was the last caught up after every PostgreSQL SIGKILL of
bench/faults.py.

This test stops PostgreSQL: run it only on infrastructure of its own (deploy/local/with-infra.sh).
"""

from __future__ import annotations

import contextlib
import time

import pytest
from eventsourcing.persistence import OperationalError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import Environment

from services.chassis.storage.postgres import DeskPostgresFactory
from services.chassis.storage.store import store_env
from tests.infra import Postgres

pytestmark = [pytest.mark.infra, pytest.mark.serial]  # stops the shared PostgreSQL

DOWN = 16.0  # seconds PostgreSQL stays down: long enough for the pool's fifth attempt to be 16 s after its fourth


def backend_of(datastore: PostgresDatastore) -> int:
    with datastore.get_connection() as conn:
        return int(conn.info.backend_pid)


def test_the_store_lends_a_connection_again_as_soon_as_postgres_is_back_from_a_crash(postgres: Postgres) -> None:
    control = postgres.control
    assert control is not None, "this test stops PostgreSQL: run it on infrastructure of its own"
    with postgres.fresh_settings() as settings:
        env = store_env(settings.model_copy(update={"postgres_pool_size": 1}), "reconnecting")
        env["POSTGRES_MAX_OVERFLOW"] = "0"  # its one connection found dead: the pool has none left to lend
        datastore = DeskPostgresFactory(Environment("reconnecting", env)).datastore
        try:
            before = backend_of(datastore)
            control.kill()
            crashed = time.monotonic()
            while time.monotonic() - crashed < DOWN:  # the desk goes on asking, and is refused
                with contextlib.suppress(OperationalError):
                    backend_of(datastore)
                time.sleep(0.2)
            control.start()  # returns once PostgreSQL answers

            after = backend_of(datastore)  # the pool lends within its wait (5 s), or raises

            assert after != before
        finally:
            datastore.close()
