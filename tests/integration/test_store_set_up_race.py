"""Processes of one service started at the same instant (a consumer and a relay restarted together, as
bench/faults.py restarts them) make the same tables and replace the same function at once. PostgreSQL
refused one of them ("tuple concurrently updated"), and routing's relay exited at its start; now the
refused set-up is done again a moment later."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.chassis.storage.store import store_env
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
