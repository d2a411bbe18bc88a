"""Processes of one service started at the same instant (a consumer and a relay restarted together, as
bench/faults.py restarts them) make the same tables and replace the same function at once. PostgreSQL
refused one of them ("tuple concurrently updated"), and routing's relay exited at its start; now the
refused set-up is done again a moment later.

Services of a desk started at the same instant on one fresh database (routing and SLA, each making the
what-if jobs' table) race another way: `CREATE TABLE IF NOT EXISTS` finds no relation of the name, then the
other's committed relation or row type, and PostgreSQL answers "relation …" or "type … already exists"
(DuplicateTable, DuplicateObject); routing exited at its start. That form needs the other's commit to fall
between two lookups of one statement, too narrow to hit at will: the rounds below meet the other forms, and
PostgreSQL's own answers in this one are shown to be taken for a race."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from eventsourcing.persistence import TrackingRecorder

from services.chassis.storage.setting_up import raced
from services.chassis.storage.store import store_env, tracking_recorder
from services.chassis.storage.views import SqlView
from services.chassis.whatif import jobs
from services.routing.application import Routing
from tests.infra import Postgres

pytestmark = pytest.mark.infra

PROCESSES = 6  # starting at once, in each round
ROUNDS = 5


def test_processes_of_a_service_starting_at_the_same_instant_all_make_their_store(postgres: Postgres) -> None:
    with postgres.fresh_settings() as settings:
        Routing(env=store_env(settings, Routing.name)).close()  # its tables made: a restart, as after a SIGKILL

        def start(together: threading.Barrier) -> int:
            together.wait()
            store = Routing(env=store_env(settings, Routing.name))  # raised InternalError for the loser
            try:
                return store.recorder.max_notification_id() or 0
            finally:
                store.close()

        for _ in range(ROUNDS):
            with ThreadPoolExecutor(PROCESSES) as pool:
                started = list(pool.map(start, [threading.Barrier(PROCESSES)] * PROCESSES))

            assert started == [0] * PROCESSES


def test_services_starting_at_the_same_instant_on_a_fresh_database_all_make_their_views(postgres: Postgres) -> None:
    for _ in range(ROUNDS * 2):
        with postgres.fresh_settings() as settings:
            recorders = [tracking_recorder(settings, name) for name in ("routing", "sla") * (PROCESSES // 2)]
            together = threading.Barrier(len(recorders))

            def set_up(recorder: TrackingRecorder, together: threading.Barrier = together) -> bool:
                together.wait()
                return SqlView(recorder, jobs.SCHEMA, name="whatif-jobs").outdated  # raised for the loser

            try:
                with ThreadPoolExecutor(len(recorders)) as pool:
                    outdated = list(pool.map(set_up, recorders))
            finally:
                for recorder in recorders:
                    recorder.datastore.close()  # type: ignore[attr-defined]

            assert outdated == [False] * len(recorders)


def test_a_relation_or_row_type_committed_under_a_table_being_made_is_taken_for_a_race(postgres: Postgres) -> None:
    name = f"raced_{uuid.uuid4().hex[:8]}"
    with postgres.fresh_settings() as settings, psycopg.connect(
        host=settings.postgres_host, port=settings.postgres_port, user=settings.postgres_user,
        password=settings.postgres_password, dbname=settings.postgres_dbname, autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(f"CREATE TYPE {name} AS ENUM ('taken')")  # found by the type's look, not the relation's
        with pytest.raises(psycopg.errors.DuplicateObject) as type_found:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {name} (a INT)")
        conn.execute(f"DROP TYPE {name}")
        conn.execute(f"CREATE TABLE {name} (a INT)")  # found by the relation's second look, past IF NOT EXISTS
        with pytest.raises(psycopg.errors.DuplicateTable) as relation_found:
            conn.execute(f"CREATE TABLE {name} (a INT)")

    assert raced(type_found.value)
    assert raced(relation_found.value)
