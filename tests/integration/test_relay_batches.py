"""The relay sends a batch of records a partition at a time: each ticket's records stay on the
partition a single send chose before, in store order, however many fill more than one batch."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer

from services.chassis.messaging.kafka import Record, ensure_topics, idempotent_producer, send_in_batches
from tests.infra import Kafka

pytestmark = pytest.mark.infra


async def test_records_sent_in_batches_keep_each_keys_partition_and_order(kafka: Kafka) -> None:
    topic = f"batches-{uuid.uuid4().hex[:8]}.tickets"
    await ensure_topics(kafka.bootstrap, [topic], partitions=3)
    tickets = [str(uuid.uuid4()).encode() for _ in range(12)]
    big = b"x" * 4000  # a few dozen of these fill a batch: every partition gets several
    records: list[Record] = [
        (topic, tickets[n % len(tickets)], big + str(n).encode(), [("position", str(n).encode())]) for n in range(600)
    ]
    producer = idempotent_producer(kafka.bootstrap, "batches-test")
    await producer.start()
    try:
        alone = {key: (await (await producer.send(topic, b"before", key=key))).partition for key in tickets}
        deliveries = await send_in_batches(producer, records)
        await asyncio.wait_for(asyncio.gather(*deliveries), 20)
        assert len(deliveries) > 3, "some partition's records filled more than one batch"
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    received: dict[bytes, list[tuple[int, int]]] = defaultdict(list)  # key -> (partition, position)
    try:
        async with asyncio.timeout(20):
            while sum(map(len, received.values())) < len(records):
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    for record in batch:
                        if record.value != b"before":
                            assert record.key is not None
                            received[record.key].append((record.partition, int(dict(record.headers)["position"])))
    finally:
        await consumer.stop()

    for key in tickets:
        assert {partition for partition, _ in received[key]} == {alone[key]}
        positions = [position for _, position in received[key]]
        assert positions == sorted(positions) == [n for n in range(600) if tickets[n % len(tickets)] == key]
