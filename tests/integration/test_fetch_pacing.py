"""Against a real broker: a consumer of a busy topic and a quiet one never leaves the busy partitions' new
records behind a long fetch of the quiet ones (services/chassis/messaging/fetch_pacing.py). aiokafka leaves out
of its next fetch each partition whose records the consumer has not taken yet; such a fetch waited the
consumer's whole 2 s at the broker, and routing took its decisions in bursts two seconds apart."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.protocol.fetch import FetchRequest

from services.chassis.messaging import fetch_pacing
from services.chassis.messaging.kafka import ensure_topics
from tests import infra

OWN_WAIT_MS = 2_000  # the desk's consumers' (consumer.py)


def test_a_fetch_that_leaves_out_a_partition_holding_records_waits_only_briefly(kafka: infra.Kafka) -> None:
    busy, quiet = f"busy-{uuid.uuid4().hex[:8]}", f"quiet-{uuid.uuid4().hex[:8]}"
    fetches: list[tuple[int, set[tuple[str, int]]]] = []  # (wait at the broker, partitions asked for)

    async def scenario() -> None:
        await ensure_topics(kafka.bootstrap, [busy, quiet], 3)
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, linger_ms=5)
        await producer.start()
        try:
            for n in range(600):
                await producer.send(busy, f"ticket {n}".encode(), key=str(n).encode())
            await producer.flush()
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(busy, quiet, bootstrap_servers=kafka.bootstrap, group_id=f"pacing-{busy}",
                                    auto_offset_reset="earliest", fetch_max_wait_ms=OWN_WAIT_MS)  # fmt: skip
        await consumer.start()
        send = consumer._client.send

        async def recorded(node_id: int, request: Any, **kwargs: Any) -> Any:
            if isinstance(request, FetchRequest):
                asked = {(topic, p[0]) for topic, partitions in request._topics for p in partitions}
                fetches.append((request._max_wait_ms, asked))
            return await send(node_id, request, **kwargs)

        consumer._client.send = recorded
        try:
            taken = 0
            while taken < 600:  # slower than the fetcher: it holds records past its prefetch backoff (0.1 s)
                batches = await consumer.getmany(timeout_ms=5_000, max_records=40)
                assert batches, "the busy topic's records keep coming"
                taken += sum(len(records) for records in batches.values())
                await asyncio.sleep(0.15)
        finally:
            await consumer.stop()

    asyncio.run(scenario())

    every = {(topic, p) for topic in (busy, quiet) for p in range(3)}
    leaving_out = [wait for wait, asked in fetches if asked != every]
    whole = [wait for wait, asked in fetches if asked == every]
    assert leaving_out, "some fetch went out while records were held (the case this is about)"
    assert max(leaving_out) <= fetch_pacing.LEFT_OUT_WAIT_MS, f"waits of fetches leaving partitions out: {leaving_out}"
    assert set(whole) == {OWN_WAIT_MS}, "a fetch of every partition waits the consumer's own time"
