"""B1: event-store appends on PostgreSQL (eventsourcing), 1 and 10 events per save, 1 and 4 writers.

The store locks its events table per commit, so more writers are not expected to
help; batching events into one save is.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.results import percentiles, record
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env
from tests.infra import postgres

SAVES = 2000


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Amended")
    def amend(self, text: str) -> None:
        self.text = text


class Notes(Application[UUID]):
    name = "benchnotes"


def run_writers(app: Notes, writers: int, events_per_save: int) -> dict[str, Any]:
    per_writer = SAVES // writers
    latencies: list[float] = []

    def writer() -> list[float]:
        own = []
        for _ in range(per_writer):
            note = Note("hello")
            for _ in range(events_per_save - 1):
                note.amend("again")
            started = time.perf_counter()
            app.save(note)
            own.append((time.perf_counter() - started) * 1000)
        return own

    started = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        for own in pool.map(lambda _: writer(), range(writers)):
            latencies.extend(own)
    elapsed = time.perf_counter() - started
    saves = per_writer * writers
    return {
        "writers": writers, "events_per_save": events_per_save, "saves_per_s": round(saves / elapsed),
        "events_per_s": round(saves * events_per_save / elapsed), "save_latency_ms": percentiles(latencies),
    }  # fmt: skip


def run() -> None:
    pg = postgres()
    with pg.fresh_database() as dbname:
        settings = Settings.model_validate(
            {
                "persistence": "postgres",
                "postgres_host": pg.host,
                "postgres_port": pg.port,
                "postgres_user": pg.user,
                "postgres_password": pg.password,
                "postgres_dbname": dbname,
                "postgres_pool_size": 20,
            }
        )
        app = Notes(env=store_env(settings, Notes.name))
        runs = [run_writers(app, writers, batch) for writers, batch in ((1, 1), (4, 1), (16, 1), (1, 10))]
        app.close()
    record("store_append", {"saves": SAVES, "runs": runs})


if __name__ == "__main__":
    run()
