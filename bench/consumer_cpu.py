"""CPU milliseconds per ticket of each process of the opened -> assigned flow, at fixed rates.

The flow and the shape are bench/routing_latency.py's (intake and routing one process per role, on
PostgreSQL and Kafka); each process's CPU (utime + stime from /proc) is read before and after each
rate's load and divided by the tickets opened. The consumers' figures show what applying a fetched
batch in one transaction saves. `RATES=40,100` (tickets/s, default) and `BENCH_SECONDS` (10) from the environment.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from bench import routing_latency
from bench.results import write
from schemas.topics import TICKETS
from tests.harness import Service, desk_settings
from tests.infra import kafka, postgres

RATES = [int(rate) for rate in os.environ.get("RATES", "40,100").split(",")]
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def run() -> None:
    routing_latency.SECONDS = int(os.environ.get("BENCH_SECONDS", routing_latency.SECONDS))
    broker, pg = kafka(), postgres()
    runs: list[dict[str, Any]] = []
    with pg.fresh_database() as dbname, tempfile.TemporaryDirectory() as tmp:
        desk = desk_settings(Path(tmp), "postgres", broker, pg, dbname)
        processes: dict[str, Service] = {}
        for name, role in [("routing", r) for r in ("api", "consumer", "relay")] + [
            ("intake", r) for r in ("api", "consumer", "relay")
        ]:
            processes[f"{name} {role}"] = desk.service(name, role).start()
        try:
            intake = processes["intake api"]
            routing_latency.set_up(intake.url)
            topic = desk.settings.kafka_name(TICKETS)
            for rate in RATES:
                pids = {name: service.process.pid for name, service in processes.items() if service.process}
                before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                figures = asyncio.run(routing_latency.load(intake.url, broker.bootstrap, topic, rate))
                spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
                per_ticket = {name: round(s * 1000 / figures["tickets"], 2) for name, s in spent.items()}
                runs.append(figures | {"cpu_ms_per_ticket": per_ticket})
        finally:
            desk.stop_all()
    write("consumer_cpu", {"seconds_per_rate": routing_latency.SECONDS, "runs": runs})


if __name__ == "__main__":
    run()
