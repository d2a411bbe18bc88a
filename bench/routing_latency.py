"""Routing: time from a ticket's `TicketOpened` recorded to its `TicketAssigned` recorded,
at steady arrival rates (open loop).

The path measured: intake's store -> intake's relay -> Kafka -> routing's consumer
(decision + tracking in one transaction) -> routing's relay -> Kafka -> intake's
consumer (assignment + tracking in one transaction). Both instants are the events'
own recorded timestamps in intake's store, read back from `intake.tickets`.

Intake and routing run one process per role (api, consumer, relay) on PostgreSQL, as
they are deployed; the load generator and the Kafka reader run here, on the same 2
cores. (With every role in one process, as `make run` starts them, the roles share
one interpreter lock and the flow saturates near 50 tickets/s.)
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from bench.load import post_tickets
from bench.results import percentiles, write
from schemas.envelope import Envelope
from schemas.routing import ROUTING_ACTOR
from schemas.topics import TICKETS
from tests.client import headers
from tests.harness import desk_settings
from tests.infra import kafka, postgres

RATES = (20, 50, 100, 150)
SECONDS = 10
AGENTS = 10
TENANT = "bench"


def set_up(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        client.put("/v1/routing/groups/first-line", json={"tier": 1}, headers=headers(TENANT)).raise_for_status()
        for n in range(AGENTS):
            agent = f"/v1/routing/agents/agent-{n}"
            body = {"groups": ["first-line"], "capacity": 1000}
            client.put(agent, json=body, headers=headers(TENANT)).raise_for_status()
            client.put(f"{agent}/presence", json={"presence": "online"}, headers=headers(TENANT)).raise_for_status()


async def load(base_url: str, bootstrap: str, topic: str, rate: int) -> dict[str, Any]:
    opened_at: dict[str, datetime] = {}
    scheduled: dict[str, float] = {}
    recorded: list[float] = []
    end_to_end: list[float] = []
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="latest", group_id=None)
    await consumer.start()
    await asyncio.sleep(1.0)

    async def consume() -> None:
        async for record in consumer:
            envelope = Envelope.from_kafka(record.value, record.headers)
            if envelope.type == "ticket.opened":
                opened_at[envelope.subject] = envelope.occurred_at
            elif envelope.type == "ticket.assigned" and envelope.actor == ROUTING_ACTOR:
                if (opened := opened_at.get(envelope.subject)) is not None:
                    recorded.append((envelope.occurred_at - opened).total_seconds() * 1000)
                if (at := scheduled.get(envelope.subject)) is not None:
                    end_to_end.append((time.perf_counter() - at) * 1000)

    def created(ticket_id: str, at: float) -> None:
        scheduled[ticket_id] = at

    reader = asyncio.create_task(consume())
    errors = await post_tickets(base_url, TENANT, rate, SECONDS, created)
    deadline = time.perf_counter() + 30
    while len(recorded) < rate * SECONDS - errors and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    reader.cancel()
    await consumer.stop()
    return {
        "rate_per_s": rate, "tickets": rate * SECONDS, "errors": errors, "assigned": len(recorded),
        "opened_to_assigned_recorded_ms": percentiles(recorded),
        "post_to_assignment_on_kafka_ms": percentiles(end_to_end),
    }  # fmt: skip


def run() -> None:
    broker, pg = kafka(), postgres()
    with pg.fresh_database() as dbname, tempfile.TemporaryDirectory() as tmp:
        desk = desk_settings(Path(tmp), "postgres", broker, pg, dbname)
        # The production shape: one process per role, as deploy/k8s runs them.
        intake = desk.service("intake", "api")
        for role in ("api", "consumer", "relay"):
            desk.service("routing", role).start()
        for service in (intake, desk.service("intake", "consumer"), desk.service("intake", "relay")):
            service.start()
        try:
            set_up(intake.url)
            topic = desk.settings.kafka_name(TICKETS)
            runs = [asyncio.run(load(intake.url, broker.bootstrap, topic, rate)) for rate in RATES]
        finally:
            desk.stop_all()
    write("routing_latency", {"seconds_per_rate": SECONDS, "agents": AGENTS, "runs": runs})


if __name__ == "__main__":
    run()
