"""A consumer's batch on PostgreSQL: the CPU each upstream event costs the consumer and the server.

Each event of a batch decides on an aggregate another process wrote (so the application's cache
does not hold it, as intake's consumer finds the tickets its gateway opened) and is recorded with
its tracking row, the batch in one transaction (services/chassis/storage/processing.py
`commit_batch`). Measured at batches of 1, 5 and 20 events: the consumer's CPU from the process
itself, the server's from /proc of the database's backends.

    python -m bench.consumer_batches
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate, event
from eventsourcing.persistence import Tracking

from bench.results import record
from services.chassis.storage.processing import ProcessRecorderMixin, commit, commit_batch, find
from services.chassis.storage.store import store_env
from tests.infra import Postgres, postgres

BATCHES = 150
WARM_UP = 10
SIZES = (1, 5, 20)


class Tally(Aggregate):
    @event("Started")
    def __init__(self, id: UUID, words: str) -> None:  # the id the upstream event names
        self.n = 0
        self.words = words

    @event("Counted")
    def count(self) -> None:
        self.n += 1


class Tallies(ProcessRecorderMixin, Application[UUID]):
    name = "tallies"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "10000"}
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {Tally: 100}


def _ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def measure(pg: Postgres, size: int) -> dict[str, float]:
    """CPU ms per event of batches of `size`, in the consumer and in the server's backends."""
    with pg.fresh_settings() as settings:
        writer = Tallies(env=store_env(settings, Tallies.name))
        ids = []
        for _ in range(size * BATCHES):
            tally = Tally(id=uuid4(), words="x" * 300)
            tally.count()
            writer.save(tally)
            ids.append(tally.id)
        app = Tallies(env=store_env(settings, Tallies.name))

        def batch(b: int) -> None:
            chunk = ids[b * size : (b + 1) * size]
            trackings = [Tracking("upstream", b * size + k + 1) for k in range(size)]

            def decide(k: int) -> list[Any]:
                tally = find(app, chunk[k], Tally)
                assert tally is not None
                tally.count()
                return [tally]

            def run(k: int) -> None:
                commit(app, lambda: decide(k), trackings[k])

            commit_batch(app, trackings, run, preload=lambda k: chunk[k])

        for b in range(WARM_UP):
            batch(b)
        with pg.connect(settings.postgres_dbname) as conn:
            pids = [
                int(row[0])
                for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        started, server = time.process_time(), _ticks(pids)
        for b in range(WARM_UP, BATCHES):
            batch(b)
        events = (BATCHES - WARM_UP) * size
        figures = {
            "consumer_ms_per_event": round((time.process_time() - started) / events * 1000, 3),
            "postgres_ms_per_event": round((_ticks(pids) - server) / os.sysconf("SC_CLK_TCK") / events * 1000, 3),
        }
        app.close()
        writer.close()
        return figures


def run() -> None:
    pg = postgres()
    record("consumer_batches", {f"batch_{size}": measure(pg, size) for size in SIZES})


if __name__ == "__main__":
    run()
