"""Kafka plumbing shared by every service: topics and the idempotent producer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

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
