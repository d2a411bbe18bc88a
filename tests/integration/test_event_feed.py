"""The HTTP event feed on real Kafka and PostgreSQL: replayed from position 0 it equals what
Kafka carried, for 10,000 events; the live tail (Server-Sent Events) resumes after any id."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer

from schemas.envelope import Envelope
from schemas.topics import TICKETS
from services.chassis.messaging.published import PublishedLog
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from tests.client import headers
from tests.harness import Desk
from tests.privacy import desk_intake
from tests.tokens import service_token
from tests.unit.test_feed_page import an_upgrade_finds_the_feed_whole, relay_partly

EVENTS = 10_000


def open_in_store(desk: Desk, count: int) -> None:
    """Tickets straight into intake's store (fast), for its relay to publish."""
    intake = desk_intake(desk.settings)
    form = TicketForm("Printer jams", "Tray 2", "customer-1", "email", "hardware", "incident", "P3")
    tenants = ("acme", "globex")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: intake.open_ticket(uuid4(), form, Cause(tenants[i % 2], "a", "c", "c")), range(count)))


async def from_kafka(bootstrap: str, topic: str, count: int) -> list[Envelope]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    found: list[Envelope] = []
    try:
        while len(found) < count:
            batches = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), timeout=120)
            for records in batches.values():
                found += [Envelope.from_kafka(r.value, r.headers) for r in records]
    finally:
        await consumer.stop()
    return found


def from_feed(client: httpx.Client, path: str, tenant: str | None = None) -> list[Envelope]:
    found: list[Envelope] = []
    after = 0
    while True:
        params: dict[str, Any] = {"after": after, "limit": 1000}
        credentials = headers(tenant) if tenant else {"Authorization": f"Bearer {service_token()}"}
        page = client.get(path, params=params, headers=credentials).json()
        found += [Envelope.model_validate(e) for e in page["events"]]
        if page["next_after"] == after:
            return found
        after = page["next_after"]


def test_the_feed_replays_from_position_0_exactly_what_kafka_carried(desk: Desk) -> None:
    open_in_store(desk, EVENTS)
    desk.service("intake", "relay").start()
    api = desk.service("intake", "api").start()
    topic = desk.settings.kafka_name(TICKETS)
    carried = asyncio.run(from_kafka(desk.settings.kafka_bootstrap_servers, topic, EVENTS))
    with httpx.Client(base_url=api.url, timeout=30.0) as client:
        replayed = from_feed(client, "/internal/events")  # the tickets topic: the checkpoints have their own
        acme = from_feed(client, "/v1/events", "acme")

    assert len(carried) == len(replayed) == EVENTS
    assert sorted(carried, key=lambda e: e.position) == replayed, "same envelopes, same ids, in store order"
    assert acme == [e for e in replayed if e.tenant == "acme"]
    assert len(acme) == EVENTS // 2


def test_the_live_tail_resumes_right_after_the_last_event_id_it_saw(desk: Desk) -> None:
    api = desk.service("intake", "api").start()
    with httpx.Client(base_url=api.url, timeout=30.0) as client:
        opened = [client.post("/v1/tickets", json={"title": f"t{i}", "requester_id": "c"},
                              headers=headers("acme")).json() for i in range(3)]  # fmt: skip
        seen: list[dict[str, Any]] = []
        resume = {"Last-Event-ID": str(opened[0]["position"])}
        with client.stream("GET", "/v1/events/stream", headers=headers("acme") | resume) as stream:
            lines = stream.iter_lines()
            while len(seen) < 2:
                line = next(lines)
                if line.startswith("data: "):
                    seen.append(json.loads(line.removeprefix("data: ")))
    assert [e["subject"] for e in seen] == [opened[1]["id"], opened[2]["id"]]


def test_an_upgrade_past_a_relay_without_the_log_leaves_the_feed_whole_on_postgres(desk: Desk) -> None:
    intake = relay_partly(desk_intake(desk.settings), relayed_before_the_log=3, relayed_with_the_log=6)
    PublishedLog(intake.factory.tracking_recorder(), intake.name).begin(9)  # a restart: the log's start stays
    assert PublishedLog(intake.factory.tracking_recorder(), intake.name).coverage().began_after == 3
    an_upgrade_finds_the_feed_whole(intake)
