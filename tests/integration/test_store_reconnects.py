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
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import Environment

from services.chassis.storage.postgres import DeskPostgresFactory
from services.chassis.storage.setting_up import PATIENCE_SECONDS
from services.chassis.storage.store import store_env
from services.chassis.storage.views import SqlView
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


def test_a_service_starting_while_postgres_is_down_makes_its_tables_once_it_is_back(postgres: Postgres) -> None:
    control = postgres.control
    assert control is not None, "this test stops PostgreSQL: run it on infrastructure of its own"
    with postgres.fresh_settings() as settings, ThreadPoolExecutor(1) as starting:
        control.kill()
        try:

            def start() -> tuple[Any, SqlView]:
                env = store_env(settings, "starting")
                recorder = DeskPostgresFactory(Environment("starting", env)).process_recorder()
                return recorder, SqlView(recorder, ["CREATE TABLE IF NOT EXISTS starting_view (n INTEGER)"], "started")

            started = starting.submit(start)
            time.sleep(3.0)  # its first attempts meet no PostgreSQL
            assert not started.done()
        finally:
            control.start()
        recorder, view = started.result(timeout=PATIENCE_SECONDS)

        assert recorder.max_notification_id() is None  # its tables are there, empty
        assert view.query("SELECT count(*) AS n FROM starting_view") == [{"n": 0}]
        assert not view.outdated
        recorder.datastore.close()
