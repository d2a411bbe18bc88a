"""Bad messages go to the dead-letter topic with their reason; projections rebuild from events."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.topics import TICKETS, dead_letter
from services.analytics import reports
from services.analytics.projections import AnalyticsProjection
from services.chassis.storage.store import tracking_recorder
from tests.client import eventually, open_tickets
from tests.harness import Desk
from tests.infra import ROOT


def good_headers(**changes: str) -> list[tuple[str, bytes]]:
    attributes = {
        "ce_specversion": "1.0", "ce_id": str(uuid.uuid4()), "ce_type": "ticket.opened", "ce_source": "intake",
        "ce_subject": "t-1", "ce_time": "2026-11-23T10:00:00+00:00", "ce_dataversion": "1", "ce_tenant": "acme",
        "ce_actor": "agent-7", "ce_sequence": "1", "ce_position": "999999", "ce_correlationid": "c",
        "ce_causationid": "c",
    } | changes  # fmt: skip
    return [(name, value.encode()) for name, value in attributes.items() if value]


POISON = {
    "not json": (b"{oops", good_headers()),
    "no CloudEvents headers": (b"{}", []),
    "unknown type": (b"{}", good_headers(ce_type="ticket.teleported")),
    "data off its schema": (json.dumps({"ticket_id": "t-1"}).encode(), good_headers()),
}


async def publish_poison(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for value, headers in POISON.values():
            await producer.send_and_wait(topic, value=value, key=b"t-1", headers=headers)
    finally:
        await producer.stop()


async def read_dead_letters(bootstrap: str, topic: str, count: int, group: str) -> list[dict[str, str]]:
    """The first `count` dead letters of consumer group `group` (every group dead-letters on its own)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    found: list[dict[str, str]] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                record = await consumer.getone()
                headers = {name: value.decode() for name, value in record.headers}
                if headers["dlq_consumer"] == group:
                    found.append(headers)
    finally:
        await consumer.stop()
    return found


def test_malformed_messages_land_in_the_dead_letter_topic_and_the_consumer_goes_on(desk: Desk) -> None:
    analytics = desk.service("analytics", "consumer").start()
    gateway = desk.service("intake").start()
    tickets = desk.settings.kafka_name(TICKETS)

    asyncio.run(publish_poison(desk.settings.kafka_bootstrap_servers, tickets))
    opened = asyncio.run(open_tickets(gateway.url, "acme", 3))

    projection = AnalyticsProjection(tracking_recorder(desk.settings, "analytics"))
    eventually(lambda: reports.backlog(projection.view, "acme")["open"], lambda n: n == 3, timeout=30)
    assert sorted(r["ticket_id"] for r in projection.rows()["tickets"]) == sorted(opened)
    group = desk.settings.kafka_name("analytics")
    dead = asyncio.run(
        read_dead_letters(desk.settings.kafka_bootstrap_servers, dead_letter(tickets), len(POISON), group)
    )
    reasons = [headers["dlq_reason"] for headers in dead]
    assert "value is not JSON" in reasons[0]
    assert "missing header" in reasons[1] or "ce_specversion" in reasons[1]
    assert "unknown event type 'ticket.teleported'" in reasons[2]
    assert "does not match ticket.opened v1" in reasons[3]
    assert all(headers["dlq_topic"] == tickets for headers in dead)
    assert analytics.process is not None
    assert analytics.process.poll() is None, "the consumer is still running"


@pytest.mark.parametrize("source", ["event feed", "kafka"])
def test_the_projection_dropped_and_rebuilt_from_the_history_equals_the_live_one(desk: Desk, source: str) -> None:
    analytics = desk.service("analytics", "consumer").start()
    gateway = desk.service("intake").start()
    for tenant in ("acme", "globex", "initech"):
        asyncio.run(open_tickets(gateway.url, tenant, 40))
    projection = AnalyticsProjection(tracking_recorder(desk.settings, "analytics"))
    eventually(lambda: projection.applied_count("intake"), lambda n: n == 120, timeout=30)
    live = projection.rows()
    analytics.stop()

    rebuild = subprocess.run(
        [sys.executable, "-m", "services.analytics.main", "rebuild",
         *(["--kafka"] if source == "kafka" else ["--feed", f"intake={gateway.url}"])],
        cwd=ROOT, env=desk.env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert rebuild.returncode == 0, rebuild.stderr
    assert projection.rows() == live
    assert len(live["tickets"]) == 120
    analytics.start()
    asyncio.run(open_tickets(gateway.url, "acme", 1))
    eventually(lambda: reports.backlog(projection.view, "acme")["open"], lambda n: n == 41, timeout=30)
    assert len(projection.rows()["tickets"]) == 121
    assert projection.applied_count("intake") == 121, "the resumed consumer applied nothing twice"
