"""What an idle desk costs: CPU each process spends per second with no traffic at all.

The production shape of bench/routing_latency.py (intake and routing one process per role on
PostgreSQL) and its embedded shape (SQLite, a process per service), agents set up and nothing else
happening. Relays and projectors wake when their store commits (services/chassis/storage/wake.py),
so an idle desk should cost next to nothing; a worker that polls again shows here. The Kafka broker
and PostgreSQL's background processes are shared with whatever else runs on the machine.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.flow import AGENTS, embedded, idle, production, set_up
from bench.results import record
from tests.infra import kafka, postgres

SECONDS = 10.0
SETTLE_SECONDS = 5.0
TENANT = "bench-idle"


def run() -> None:
    broker = kafka()
    figures: dict[str, Any] = {"seconds": SECONDS}
    for shape in (production(broker, postgres()), embedded(broker)):
        with shape as flow:
            set_up(flow.gateway.url, TENANT, AGENTS)
            time.sleep(SETTLE_SECONDS)
            figures[flow.shape] = asyncio.run(idle(flow, SECONDS))
            print(f"{flow.shape}, CPU ms per second with no load: {figures[flow.shape]}", flush=True)
    record("idle_cpu", figures, show=False)


if __name__ == "__main__":
    run()
