"""B3 and the relay hop: POST /v1/tickets -> 201 after the durable commit, and
POST -> the event on Kafka, at constant arrival rates (open loop: latency is
measured from each request's scheduled time, so a stall is not hidden).

Intake (API + relay) runs as one process on PostgreSQL; the load generator
(aiohttp: httpx costs more CPU than the server it measures) and a Kafka consumer
run here, on the same 2 cores.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from bench.load import post_tickets
from bench.results import percentiles, record
from schemas.topics import TICKETS
from tests.harness import desk_settings
from tests.infra import kafka, postgres

RATES = (50, 200, 400, 600)
SECONDS = 10


async def load(base_url: str, bootstrap: str, topic: str, rate: int) -> dict[str, Any]:
    scheduled: dict[str, float] = {}
    acked: list[float] = []
    published: list[float] = []
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="latest", group_id=None)
    await consumer.start()
    await asyncio.sleep(1.0)  # let the consumer take its partitions

    async def consume() -> None:
        async for message in consumer:
            subject = message.key.decode() if message.key else ""
            if subject in scheduled:
                published.append((time.perf_counter() - scheduled[subject]) * 1000)

    def created(ticket_id: str, at: float) -> None:
        scheduled[ticket_id] = at
        acked.append((time.perf_counter() - at) * 1000)

    reader = asyncio.create_task(consume())
    errors = await post_tickets(base_url, "bench", rate, SECONDS, created)
    deadline = time.perf_counter() + 10
    while len(published) < len(acked) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    reader.cancel()
    await consumer.stop()
    return {
        "rate_per_s": rate, "requests": rate * SECONDS, "errors": errors,
        "ack_ms": percentiles(acked), "post_to_kafka_ms": percentiles(published),
    }  # fmt: skip


def run() -> None:
    broker, pg = kafka(), postgres()
    with pg.fresh_database() as dbname, tempfile.TemporaryDirectory() as tmp:
        desk = desk_settings(Path(tmp), "postgres", broker, pg, dbname)
        desk.env["SERVICEDESK_POSTGRES_POOL_SIZE"] = "10"
        intake = desk.service("intake").start()
        try:
            topic = desk.settings.kafka_name(TICKETS)
            runs = [asyncio.run(load(intake.url, broker.bootstrap, topic, rate)) for rate in RATES]
        finally:
            desk.stop_all()
    record("ticket_flow", {"seconds_per_rate": SECONDS, "runs": runs})


if __name__ == "__main__":
    run()
