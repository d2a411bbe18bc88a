"""Kafka plumbing shared by every service: topics, the idempotent producer and sending in batches."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from schemas.topics import dead_letter

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int, patience: float = 60.0) -> None:
    """Create `topics` and their dead-letter twins when missing; wait for the broker meanwhile."""
    wanted = sorted({name for topic in topics for name in (topic, dead_letter(topic))})
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(t, num_partitions=partitions, replication_factor=1) for t in wanted if t not in existing
            ]
            if missing:
                response = await admin.create_topics(missing)
                for topic, code, *_ in response.topic_errors:
                    if code not in (0, _TOPIC_ALREADY_EXISTS):
                        raise KafkaError(f"cannot create topic {topic}: error code {code}")
            return
        except KafkaError as error:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("waiting for Kafka at %s to create topics: %s", bootstrap, error)
            await asyncio.sleep(1)
        finally:
            await admin.close()


def idempotent_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """acks=all with idempotence: a retried send is written once per producer session.

    linger 1 ms keeps the hop short while still batching a burst.
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=1,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
    )


Record = tuple[str, bytes, bytes, list[tuple[str, bytes]]]  # topic, key, value, headers


@functools.lru_cache(maxsize=16_384)
def key_hash(key: bytes) -> int:
    """The hash by which the producer's default partitioner (Kafka's own) places a record with `key`: murmur2,
    in Python, was 7 % of SLA's relay, which publishes each clock's few events over minutes under one key
    (a ticket's id), so the recent keys' hashes are kept."""
    return int(murmur2(key)) & 0x7FFFFFFF


async def send_in_batches(producer: AIOKafkaProducer, records: Sequence[Record]) -> list[asyncio.Future[Any]]:
    """Queue `records` in their order as one batch per partition (another when one fills up), on the
    partition `producer.send` would choose for each key; the futures of the batches' deliveries.

    Records share produce requests either way (the producer lingers); built here, they cost no
    future and no coroutine each. A partition's batches are queued in order, one after the other.
    """
    partitions: dict[str, list[int]] = {}
    filling: dict[tuple[str, int], Any] = {}  # (topic, partition) -> its batch being built
    deliveries: list[asyncio.Future[Any]] = []
    for topic, key, value, headers in records:
        if topic not in partitions:
            partitions[topic] = sorted(await producer.partitions_for(topic))
        partition = partitions[topic][key_hash(key) % len(partitions[topic])]
        batch = filling.get((topic, partition))
        if batch is not None and batch.append(key=key, value=value, timestamp=None, headers=headers) is not None:
            continue
        if batch is not None:  # full: queue it, start the next
            deliveries.append(await producer.send_batch(batch, topic, partition=partition))
        batch = filling[topic, partition] = producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
            raise KafkaError(f"a record of {len(value)} bytes does not fit in a batch for {topic}")
    for (topic, partition), batch in filling.items():
        deliveries.append(await producer.send_batch(batch, topic, partition=partition))
    return deliveries
