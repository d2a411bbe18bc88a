"""The relay: the store's notification log, published to Kafka, exactly in store order.

The notification log is the outbox. The relay reads a batch after its position,
publishes its records with the idempotent acks=all producer (a batch per partition), waits for every ack,
and only then records the batch's last position (a tracking row in the same store),
in one transaction with the envelopes it published (services/chassis/messaging/published.py).
A crash anywhere republishes the unrecorded suffix and never skips: consumers drop
the duplicates by store position. Each record's `traceparent` header is its producer
span's, whose parent is the context stored with the event.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Notification, Tracking

from schemas.envelope import Envelope, EnvelopeFields
from services.chassis.messaging.kafka import Record, idempotent_producer, send_in_batches
from services.chassis.messaging.published import RELAY_NAME, PublishedLog
from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.leadership import Lease
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.pacing import sleep_unless
from services.chassis.runtime.retries import Backoff
from services.chassis.runtime.tracing import Publishing
from services.chassis.storage.wake import Wake, store_commits

log = logging.getLogger(__name__)
KAFKA_RETRY_SECONDS = 1.0  # the longest wait between attempts to reach a broker that is away
DELIVERY_SECONDS = 20.0  # a batch Kafka has not acknowledged by then is sent again, by a fresh producer

# Maps one stored notification to (topic, envelope), or None for a private event.
Publication = Callable[[Notification], tuple[str, Envelope] | None]
# The same before validation, as a service's publication module makes it: the relay validates
# each envelope before Kafka; the HTTP feed serves the fields as they are (its readers validate).
PublicFields = Callable[[Notification], tuple[str, EnvelopeFields] | None]

StoredEvent = TypeVar("StoredEvent")


def published_on(
    topic: str,
    kind: type[StoredEvent],
    envelope: Callable[[StoredEvent, int], EnvelopeFields | None],
    app: Application,  # type: ignore[type-arg]
) -> PublicFields:
    """`app`'s stored events of `kind`, each on `topic` as `envelope` makes it from the event and its
    store position (None: that one stays private); every other stored event stays private."""

    def publish(notification: Notification) -> tuple[str, EnvelopeFields] | None:
        event = app.mapper.to_domain_event(notification)
        if not isinstance(event, kind) or (fields := envelope(event, notification.id)) is None:
            return None
        return topic, fields

    return publish


def validated(public: PublicFields) -> Publication:
    """`public`, each envelope validated."""

    def publish(notification: Notification) -> tuple[str, Envelope] | None:
        record = public(notification)
        return None if record is None else (record[0], Envelope.model_validate(record[1]))

    return publish


class Relay:
    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        publication: Publication,
        bootstrap: str,
        metrics: Metrics,
        *,
        batch_size: int = 500,
        idle_seconds: float = 1.0,
        namespace: str = "",
        on_published: Callable[[Envelope], None] = lambda _: None,
        lease: Lease,
    ) -> None:
        """`on_published` sees each envelope once Kafka acknowledged it (e.g. to count decisions);
        `lease` makes one replica of several the publisher (services/chassis/runtime/leadership.py).
        A commit to the store wakes the relay (services/chassis/storage/wake.py); with nothing new it
        reads again after `idle_seconds` all the same."""
        self.app = app
        self.tracker = app.factory.tracking_recorder()
        self.log = PublishedLog(self.tracker, app.name)
        self.publication = publication
        self.bootstrap = bootstrap
        self.metrics = metrics
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.namespace = namespace
        self.on_published = on_published
        self.position = 0
        self.connected = False  # the producer is up and its last batch was acknowledged
        self.lease = lease
        self.standby = False  # another replica leads

    async def run(self, stopping: asyncio.Event) -> None:
        """Relay while this replica holds the relay lease; stand by while another one does."""
        while not stopping.is_set():
            if not await self.lease.acquire():
                self.standby = True
                await sleep_unless(stopping, 1.0)
                continue
            self.standby = False
            try:
                await self._lead(stopping)
            finally:
                self.connected = False
                await self.lease.release()

    @property
    def ready(self) -> bool:
        """A standby relay is healthy; a leading one once Kafka acknowledges its batches."""
        return self.standby or self.connected

    async def _lead(self, stopping: asyncio.Event) -> None:
        self.position = await asyncio.to_thread(self._recorded_position)
        await asyncio.to_thread(self.log.begin, self.position)
        log.info("relay of %s leads, after position %d", self.app.name, self.position)
        async with store_commits(self.app).follower(stopping) as wake:
            await self._publish(stopping, wake)

    async def _publish(self, stopping: asyncio.Event, wake: Wake) -> None:
        producer: AIOKafkaProducer | None = None
        backoff = Backoff.for_store()
        # A broker that is away refuses the connection at once: trying again each second costs nothing,
        # and after it is back the relay waits no more than that (with 5 s, assignments stayed slow
        # for seconds after a Kafka restart: tests/integration/test_kafka_recovery.py).
        kafka_backoff = Backoff(initial=0.2, maximum=KAFKA_RETRY_SECONDS)
        while not stopping.is_set():
            if not await self.lease.held():
                log.warning("relay of %s lost its lease: standing by", self.app.name)
                break
            try:
                if producer is None:
                    producer = idempotent_producer(self.bootstrap, f"{self.app.name}-relay")
                    await producer.start()
                    self.connected = True
                published = await self._relay_batch(producer)
                backoff.succeeded()
                kafka_backoff.succeeded()
                if published < self.batch_size:  # caught up: a full batch is followed at once
                    await wake.wait(self.idle_seconds)
            except (KafkaError, OSError) as error:
                # A broker blip can leave the idempotent producer stuck (aiokafka #1017):
                # start a fresh session and republish from the recorded position.
                self.connected = False
                self.metrics.relay_errors.labels(self.app.name).inc()
                log.warning("relay: Kafka error, restarting the producer: %r", error)
                await _stop(producer)
                producer = None
                await sleep_unless(stopping, kafka_backoff.failed())
            except TRANSIENT_STORE_ERRORS as error:
                self.metrics.relay_errors.labels(self.app.name).inc()
                log.warning("relay: store unavailable, retrying: %r", error)
                await sleep_unless(stopping, backoff.failed())
            except IntegrityError as error:
                # Not recorded after all, though the tracking row is there: whoever wrote it (this relay,
                # a commit whose answer was lost, or a replica that led meanwhile) published up to there.
                self.metrics.relay_errors.labels(self.app.name).inc()
                log.warning("relay: progress recorded elsewhere, reading on from the store's: %r", error)
                self.position = await asyncio.to_thread(self._recorded_position)
                await sleep_unless(stopping, backoff.failed())
        await _stop(producer)

    def _recorded_position(self) -> int:
        return self.tracker.max_tracking_id(RELAY_NAME) or 0

    def _record(self, tracking: Tracking, envelopes: Sequence[Envelope]) -> None:
        """Record that the batch up to `tracking` is published. A retry of a record whose first commit
        went through though its answer was lost (the store went away right after COMMIT) finds the row
        there: that is done, not an error; any other conflict is raised."""
        try:
            self.log.record(tracking, envelopes)
        except IntegrityError:
            if self._recorded_position() < tracking.notification_id:
                raise
            log.info("relay of %s: position %d was recorded already", self.app.name, tracking.notification_id)

    async def _relay_batch(self, producer: AIOKafkaProducer) -> int:
        notifications: Sequence[Notification] = await asyncio.to_thread(
            self.app.recorder.select_notifications, self.position + 1, self.batch_size
        )
        if not notifications:
            self.metrics.relay_lag.labels(self.app.name).set(0)
            return 0
        records: list[Record] = []
        topics = []
        envelopes = []
        with Publishing() as publishing:  # a producer span per event, child of the span that stored it
            for notification in notifications:
                record = self.publication(notification)
                if record is None:
                    continue
                topic = self.namespace + record[0]
                envelope = publishing.start(topic, record[1])
                records.append((topic, *envelope.to_kafka()))
                topics.append(topic)
                envelopes.append(envelope)
            deliveries = await send_in_batches(producer, records)
            # A producer stuck after a broker restart never settles its deliveries and says nothing;
            # waiting for them no longer than this makes it a Kafka error like any other (TimeoutError
            # is an OSError): the producer is started afresh and the batch is sent again.
            await asyncio.wait_for(asyncio.gather(*deliveries), DELIVERY_SECONDS)
        last = notifications[-1].id
        await asyncio.to_thread(self._record, Tracking(RELAY_NAME, last), envelopes)
        self.position = last
        for topic, count in Counter(topics).items():  # a counter's labels looked up once a topic, not once an event
            self.metrics.relay_published.labels(self.app.name, topic).inc(count)
        for envelope in envelopes:
            self.on_published(envelope)
        self.metrics.relay_position.labels(self.app.name).set(last)
        if len(notifications) == self.batch_size:  # behind: measure by how much
            await self._observe_lag()
        else:
            self.metrics.relay_lag.labels(self.app.name).set(0)
        return len(notifications)

    async def _observe_lag(self) -> None:
        newest = await asyncio.to_thread(self.app.recorder.max_notification_id) or 0
        self.metrics.relay_lag.labels(self.app.name).set(max(0, newest - self.position))


async def _stop(producer: AIOKafkaProducer | None) -> None:
    """Stop `producer` if any; the relay then starts a fresh one."""
    if producer is not None:
        try:
            await producer.stop()
        except (
            KafkaError,
            OSError,
        ):  # stopping a broken session must not fail the relay
            log.debug("relay: producer stop failed", exc_info=True)
