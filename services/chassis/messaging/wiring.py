"""The roles a service's main.py plugs into its Runtime: consuming topics, relaying its store.

Written once here so that every service consumes and publishes the same way: topics
created before use, readiness answered by Kafka itself, shutdown in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aiokafka.errors import KafkaError
from eventsourcing.application import Application
from faststream.kafka import KafkaBroker

from schemas.envelope import Envelope
from schemas.topics import PUBLIC_TOPICS
from services.chassis.messaging.batching import Apply, ApplyBatch
from services.chassis.messaging.consumer import IdempotentConsumer
from services.chassis.messaging.group_watch import GroupWatch
from services.chassis.messaging.kafka import ensure_topics
from services.chassis.messaging.relay import Publication, Relay
from services.chassis.runtime.leadership import lease
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.runtime import Runtime, StartError
from services.chassis.runtime.settings import Settings


async def _create_public_topics(settings: Settings, *more: str) -> None:
    topics = [settings.kafka_name(topic) for topic in (*PUBLIC_TOPICS, *more)]
    patience = settings.kafka_patience_seconds
    try:
        await ensure_topics(settings.kafka_bootstrap_servers, topics, settings.topic_partitions, patience)
    except KafkaError as error:
        raise StartError(
            f"Kafka does not answer at {settings.kafka_bootstrap_servers} (KAFKA_BOOTSTRAP_SERVERS; unset, the local"
            f" one on SERVICEDESK_KAFKA_PORT) after {patience:g}s: {error}"
        ) from None


def consume(
    runtime: Runtime,
    settings: Settings,
    metrics: Metrics,
    group: str,
    topics: Iterable[str],
    apply: Apply,
    tracking_prefix: str = "",
    apply_batch: ApplyBatch | None = None,
    gather_seconds: float = 0.0,
) -> IdempotentConsumer:
    """Consume `topics` in consumer group `group` (both in the desk's namespace), each event once.
    A second consumer of the same events in the same store needs its own `tracking_prefix`.
    With `apply_batch` (batching.py `in_store`, `in_view`) each fetched batch is one transaction, gathered
    for up to `gather_seconds` when fewer are ready (consumer.py)."""
    # No dependency injection (`apply_types`): the handler takes the message itself (consumer.py `_the_message`);
    # FastDepends resolved it in a worker thread for every batch, a sixth of a consumer's CPU.
    broker = KafkaBroker(settings.kafka_bootstrap_servers, enable_idempotence=True, acks="all", logger=None,
                         apply_types=False)  # fmt: skip
    consumer = IdempotentConsumer(
        broker,
        [settings.kafka_name(t) for t in topics],
        settings.kafka_name(group),
        apply,
        metrics,
        on_halt=runtime.fail,
        dlq_max_ratio=settings.consumer_dlq_max_ratio,
        tracking_prefix=tracking_prefix,
        apply_batch=apply_batch,
        gather_seconds=gather_seconds,
        instance=settings.instance_id or None,
        static_session_seconds=settings.static_session_seconds,
    )

    async def start() -> None:
        await _create_public_topics(settings)
        await broker.start()

    async def kafka_ready() -> bool:
        return await broker.ping(timeout=1.0)

    watch = GroupWatch(consumer.group, consumer.member, kafka_ready, consumer.halt)
    runtime.on_start.append(start)
    runtime.on_stop.append(broker.stop)
    runtime.checks[f"kafka-{group}"] = kafka_ready
    runtime.workers.append((f"group-watch-{group}", watch.run))
    return consumer


def relay(
    runtime: Runtime,
    settings: Settings,
    metrics: Metrics,
    app: Application[Any],
    publication: Publication,
    on_published: Callable[[Envelope], None] = lambda _: None,
    own_topics: Iterable[str] = (),
) -> Relay:
    """Publish `app`'s store to Kafka in store order (the outbox relay); `own_topics`: topics besides
    the public ones it publishes on (created with them)."""
    worker = Relay(
        app,
        publication,
        settings.kafka_bootstrap_servers,
        metrics,
        batch_size=settings.relay_batch_size,
        idle_seconds=settings.relay_idle_seconds,
        namespace=settings.kafka_namespace,
        on_published=on_published,
        lease=lease(settings, f"{app.name}-relay"),
    )

    async def start() -> None:
        await _create_public_topics(settings, *own_topics)

    async def kafka_ready() -> bool:
        return worker.ready

    runtime.on_start.append(start)
    runtime.workers.append(("relay", worker.run))
    runtime.checks["kafka-relay"] = kafka_ready
    return worker
