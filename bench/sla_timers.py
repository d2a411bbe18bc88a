"""SLA timer lateness at 10,000 live clocks: how long after its due instant each warning and
breach is recorded, while the service runs (target: p99 <= 1 s).

10,000 tickets are opened on the tickets topic with opening instants spread over two
minutes; each clock has two targets with 50 % and 90 % warnings, so 60,000 firings
fall due over about three and a half minutes. The SLA service (all roles, one
process) runs on PostgreSQL; lateness is read back from its store.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.results import percentiles, record
from schemas.topics import TICKETS
from services.chassis.storage.store import store_env
from services.sla.application import Sla
from tests.client import headers
from tests.harness import desk_settings
from tests.infra import kafka, postgres
from tests.sla_load import Outcomes, clocks_started, open_tickets, outcomes, policy

CLOCKS = 10_000
LEAD = timedelta(seconds=150)  # time to open and start every clock before the first opening instant
SPREAD = 120.0
FIRST_RESPONSE, RESOLUTION = timedelta(seconds=60), timedelta(seconds=120)
TENANT = "bench"


def run() -> None:
    broker, pg = kafka(), postgres()
    with pg.fresh_database() as dbname, tempfile.TemporaryDirectory() as tmp:
        desk = desk_settings(Path(tmp), "postgres", broker, pg, dbname)
        service = desk.service("sla").start()
        try:
            body = policy(FIRST_RESPONSE, RESOLUTION)
            httpx.put(f"{service.url}/v1/sla/policies/bench", json=body, headers=headers(TENANT)).raise_for_status()
            start = datetime.now(UTC) + LEAD
            began = time.monotonic()
            topic = desk.settings.kafka_name(TICKETS)
            asyncio.run(open_tickets(broker.bootstrap, topic, TENANT, CLOCKS, start, SPREAD))
            store = Sla(env=store_env(desk.settings, Sla.name))
            while clocks_started(store) < CLOCKS:
                time.sleep(2.0)
            started_in = time.monotonic() - began
            last_due = start + timedelta(seconds=SPREAD) + RESOLUTION
            time.sleep(max(0.0, (last_due - datetime.now(UTC)).total_seconds()) + 5.0)
            result: Outcomes = outcomes(store)
            metrics = httpx.get(f"{service.url}/metrics").text
        finally:
            desk.stop_all()
    late_ms = [s * 1000 for s in result.lateness["warning"] + result.lateness["breach"]]
    early_ms = [s for s in late_ms if s < 0]
    figures = {
        "clocks": CLOCKS, "clocks_started_in_s": round(started_in, 1), "firings": result.firings,
        "expected_firings": CLOCKS * 6, "duplicates": result.duplicates,
        "lateness_ms": percentiles(late_ms), "warning_lateness_ms": percentiles(
            [s * 1000 for s in result.lateness["warning"]]), "breach_lateness_ms": percentiles(
            [s * 1000 for s in result.lateness["breach"]]), "recorded_before_due": len(early_ms),
        "mean_ms": round(statistics.fmean(late_ms), 3) if late_ms else None,
        "prometheus_histogram": [line for line in metrics.splitlines()
                                 if line.startswith("servicedesk_sla_timer_lateness_seconds_count")],
    }  # fmt: skip
    record("sla_timers", figures)


if __name__ == "__main__":
    run()
