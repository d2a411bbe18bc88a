"""The idempotent consumer: each upstream event takes effect exactly once.

Outcomes are named by what happens next (after Sentry's Arroyo):
- applied: the effects and a tracking row of the upstream *store position* were
  written in one transaction; then the offset is committed;
- duplicate: the tracking row already exists (a redelivery, or a relay that
  republished at new offsets): nothing is written, the offset is committed;
- dead-lettered: the message is malformed or of an unknown type: it goes to
  `<topic>.dlq` with the reason in headers, then the offset is committed. Too many
  in a row halts the consumer, so a bad deploy stops instead of dumping the topic;
- retried: the store is away: back off and try the same message again, uncommitted;
- a bug: the consumer halts with the offset uncommitted, so nothing is lost.

The consumer takes what Kafka has ready (up to `max_records`, each partition in order). With an
`apply_batch` (batching.py) the batch's events are applied in order in one transaction with all
their tracking rows: a later event sees what an earlier one changed, events tracked before are
skipped as duplicates without failing the others, a lost race decides the batch again. A
malformed message goes to the dead-letter topic alone and the rest of the batch applies. A batch
that fails otherwise is applied again one event at a time, so a poison event is found and
halts the consumer as it would alone.

Each message is handled in a CONSUMER span, child of the record's `traceparent` header,
and the reaction sees that span's context as the envelope's `traceparent`, so the
events it records continue the trace.

Offsets are committed every `commit_every` messages or `commit_seconds`, not after each
one (a commit per message cost a broker round trip per event), and only the offsets of
messages fully handled, named explicitly per partition. (Committing the consumer's
position instead, as a bare `commit()` does, would pass the message being handled at
that moment: a crash before its transaction then loses it for good.) Whatever a crash
makes Kafka deliver again is a duplicate by its tracking row. A commit that fails (the group
rebalancing after a broker restart) is made again, with what was handled since, until it goes
through. A halted consumer commits nothing more.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from eventsourcing.persistence import IntegrityError, Tracking
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage
from opentelemetry.trace import Span

from schemas.envelope import Envelope, EventData, MalformedEventError
from schemas.registry import parse_data
from schemas.topics import dead_letter
from services.chassis.messaging.batching import Apply, ApplyBatch
from services.chassis.runtime import logs, tracing
from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.runtime.metrics import Metrics
from services.chassis.runtime.retries import STORE_RETRY_SECONDS, retry_async

log = logging.getLogger(__name__)

RECOMMIT_SECONDS = 1.0  # a failed commit is tried again this often, until it goes through
IDLE_WAIT_MS = 1_000  # an idle member's fetch returns empty this often, so a stopping consumer notices
DYNAMIC_SESSION_MS = 6_000  # a dynamic member's partitions move to the others after this long: the broker's minimum


@dataclass(frozen=True)
class _Ready:
    """A parsed message of a batch, ready to apply."""

    topic: str
    envelope: Envelope
    data: EventData
    tracking: Tracking
    span: Span


class _Counting(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts the assignments a member receives (`servicedesk_consumer_assignments`): one as it joins, one
    more at each rebalance of its group; a member whose group mate came back under its name sees none."""

    def __init__(self, assignments: Any) -> None:
        self.assignments = assignments

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.assignments.inc()


class ConsumerHaltedError(RuntimeError):
    """The consumer stopped itself; the message that caused it stays uncommitted."""


class IdempotentConsumer:
    def __init__(
        self,
        broker: KafkaBroker,
        topics: Iterable[str],
        group: str,
        apply: Apply,
        metrics: Metrics,
        *,
        on_halt: Callable[[BaseException], None],
        dlq_max_ratio: float = 0.5,
        dlq_window: int = 50,
        commit_every: int = 200,
        commit_seconds: float = 0.2,
        tracking_prefix: str = "",
        apply_batch: ApplyBatch | None = None,
        max_records: int = 100,
        gather_seconds: float = 0.0,
        instance: str | None = None,
        static_session_seconds: float = 10.0,
    ) -> None:
        """`tracking_prefix` keeps this consumer's tracking rows apart from another consumer's of the
        same events in the same store (e.g. intake's webhooks beside its decision consumer).
        `apply_batch` (batching.py), given, applies the events fetched together (at most `max_records`) in one
        transaction; `apply` still applies one alone. `gather_seconds`: how long a fetch that found fewer waits
        for more to join its batch (0: it returns at once), for a consumer whose effects may wait that long
        (SLA's clocks start at the ticket's own instant however late they are recorded) and which then records
        a batch in one transaction instead of an event or two in each. `instance`: this process's name in the
        group (`Settings.instance_id`), the same after a restart and no other live member's: a static member,
        which Kafka gives its partitions back at once when it returns under that name; None, a dynamic one.
        `static_session_seconds`: how long Kafka keeps a silent static member's partitions for it
        (`Settings.static_session_seconds`)."""
        self.broker = broker
        self.group = group
        self.apply = apply
        self.metrics = metrics
        self.on_halt = on_halt
        self.dlq_max_ratio = dlq_max_ratio
        self.recent_dead_letters: deque[bool] = deque(maxlen=dlq_window)
        self.halted: BaseException | None = None
        self.tracking_prefix = tracking_prefix
        self.apply_batch = apply_batch
        self.commit_every = commit_every
        self.commit_seconds = commit_seconds
        self._handled: dict[TopicPartition, int] = {}  # per partition, the offset after the last message handled
        self._consumer: Any = None
        self._since_commit = 0
        self._committing = asyncio.Lock()
        self._flush: asyncio.Task[None] | None = None
        self._retry: asyncio.Task[None] | None = None  # committing again what a failed commit left
        self.subscriber = broker.subscriber(
            *topics,
            group_id=group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            batch=True,
            max_records=max_records,
            max_poll_interval_ms=600_000,
            # An empty fetch waits this long at the broker, which answers at once when a record arrives:
            # an idle member asks 0.5 times a second instead of twice.
            fetch_max_wait_ms=2_000,
            group_instance_id=instance,
            # A crashed member's partitions move to the others after this long.
            session_timeout_ms=DYNAMIC_SESSION_MS if instance is None else round(static_session_seconds * 1000),
            # A member learns from its heartbeat that the group rebalances (after a broker restart, every
            # member rejoins): each 0.5 s, not 1.5 s, the group is whole again sooner.
            heartbeat_interval_ms=500,
            listener=_Counting(metrics.consumer_assignments.labels(self.group)),
            decoder=_the_message,
        )
        self.subscriber(self.handle)
        self.max_records = max_records
        self.gather_seconds = gather_seconds
        self.subscriber.get_msg = self._fetch  # type: ignore[method-assign]

    async def _fetch(self, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord[Any, Any], ...]:
        """What Kafka has ready (at most `max_records`), waiting up to `IDLE_WAIT_MS` for the first record
        and returning the moment one arrives. It stands in for faststream's batch fetch, which sleeps as long
        again after every empty wait: an idle member woke ~25 times a second, and a record arriving during
        the sleep waited it out."""
        try:
            batches = await consumer.getmany(timeout_ms=IDLE_WAIT_MS, max_records=self.max_records)
            records = tuple(chain.from_iterable(batches.values()))
            if self.gather_seconds > 0 and 0 < len(records) < self.max_records:
                await asyncio.sleep(self.gather_seconds)  # each partition's later records come after its earlier
                more = await consumer.getmany(timeout_ms=0, max_records=self.max_records - len(records))
                records += tuple(chain.from_iterable(more.values()))
        except KafkaError as error:
            if type(error) is KafkaError and self.halted is None:
                # aiokafka's group coordination ended on an error of its own (seen after a broker SIGKILL: a
                # write to a connection the restart had closed, which `kafka_connections.py` now turns into an
                # error aiokafka handles), and it never joins the group again: every fetch fails the same,
                # silently, while the process answers ready. Stopping lets the process be started again (as
                # Kubernetes does), and the new member join the group.
                self.halt(error)
            raise
        return records

    async def handle(self, msg: KafkaMessage) -> None:
        if self.halted is not None:
            raise ConsumerHaltedError("halted; not taking more messages") from self.halted
        raw = msg.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        self._consumer = msg.consumer
        with tracing.Consuming(self.group) as spans:
            ready: list[_Ready] = []
            for record in records:
                span = spans.start(record.topic, record.headers, record.partition, record.offset)
                try:
                    envelope = Envelope.from_kafka(record.value, record.headers)
                    data = parse_data(envelope)
                except MalformedEventError as error:
                    with tracing.current(span):
                        await self._dead_letter(record.topic, record.key, record.value, record.headers, error.reason)
                    if self.halted is not None:
                        raise ConsumerHaltedError("halted; not taking more messages") from self.halted
                else:
                    handled = tracing.handled(record.topic, envelope, span)  # its effects: children of this span
                    tracking = Tracking(self.tracking_prefix + envelope.source, envelope.position)
                    ready.append(_Ready(record.topic, handled, data, tracking, span))
            await self._apply_all(ready)
        last: dict[tuple[str, int], int] = {}  # each partition's last offset of the batch (its records are in order)
        for record in records:
            last[record.topic, record.partition] = record.offset
        for (topic, partition), offset in last.items():  # a gauge and a position each, not one per record
            self._observe_lag(msg, topic, partition, offset)
            self._handled[TopicPartition(topic, partition)] = offset + 1
        self._since_commit += len(records)
        if self._since_commit >= self.commit_every:
            await self._commit()
        elif self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._commit_soon())

    async def _apply_all(self, ready: list[_Ready]) -> None:
        """Apply the batch's events in one transaction (`apply_batch`); one at a time without one, when
        there is one event, or when the batch failed (so a poison event is found, and halts)."""
        if self.apply_batch is None or len(ready) < 2:
            for item in ready:
                await self._apply(item)
            return
        apply_batch = self.apply_batch
        deliveries = [(item.envelope, item.data, item.tracking) for item in ready]

        def retried(error: BaseException, seconds: float) -> None:
            self.metrics.consumer_outcomes.labels(self.group, ready[0].topic, "retried").inc(len(ready))
            log.warning(
                "%s: store unavailable, retrying a batch of %d in %.1fs: %r", self.group, len(ready), seconds, error
            )

        try:
            skipped = await retry_async(
                lambda: asyncio.to_thread(apply_batch, deliveries), TRANSIENT_STORE_ERRORS, retried,
                initial=0.1, maximum=STORE_RETRY_SECONDS,
            )  # fmt: skip
        except Exception as error:  # noqa: BLE001 (each event alone: a bug halts there, with its own error)
            log.info("%s: a batch of %d failed, applying it one event at a time: %r", self.group, len(ready), error)
            for item in ready:
                await self._apply(item)
            return
        self._count_all([(item, "duplicate" if k in skipped else "applied") for k, item in enumerate(ready)])

    async def _apply(self, item: _Ready) -> None:
        envelope = item.envelope

        def retried(error: BaseException, seconds: float) -> None:
            self.metrics.consumer_outcomes.labels(self.group, item.topic, "retried").inc()
            log.warning("%s: store unavailable, retrying %s in %.1fs: %r", self.group, envelope.id, seconds, error)

        with tracing.current(item.span), logs.about(envelope.tenant, envelope.subject, envelope.traceparent):
            try:
                await retry_async(
                    lambda: asyncio.to_thread(self.apply, envelope, item.data, item.tracking), TRANSIENT_STORE_ERRORS,
                    retried, initial=0.1, maximum=STORE_RETRY_SECONDS,
                )  # fmt: skip
                outcome = "applied"
            except IntegrityError:
                outcome = "duplicate"
            except Exception as error:
                self.halt(error)
                raise
        self._count(item, outcome)

    def _count(self, item: _Ready, outcome: str) -> None:
        self._count_all([(item, outcome)])

    def _count_all(self, outcomes: Sequence[tuple[_Ready, str]]) -> None:
        """A batch's outcomes: the counter's labels looked up once a topic and outcome, not once an event."""
        for (topic, outcome), count in Counter((item.topic, outcome) for item, outcome in outcomes).items():
            self.metrics.consumer_outcomes.labels(self.group, topic, outcome).inc(count)
        for item, outcome in outcomes:
            self.recent_dead_letters.append(False)
            if item.span.is_recording():  # a span not sampled (tracing off) takes no attribute
                with tracing.current(item.span):
                    tracing.annotate(outcome=outcome)

    async def _commit_soon(self) -> None:
        """Commit within `commit_seconds`, and again while messages were handled as a commit was on its way:
        `handle` leaves their offsets to this flush, and they waited for the next message (a partition's last
        ones left its group behind as Kafka sees it, however long no message came)."""
        while True:
            await asyncio.sleep(self.commit_seconds)
            if not await self._commit() or not self._handled or self.halted is not None:
                return

    async def _commit(self, again: bool = False) -> bool:
        """Commit the offsets of the messages handled so far (never after a halt); whether it went through.
        Offsets whose commit failed are committed again within a second, with whatever was handled meanwhile
        (`again`: this is that retry)."""
        async with self._committing:
            offsets, self._handled = self._handled, {}
            if not offsets or self.halted is not None:
                return True
            self._since_commit = 0
            try:
                await self._consumer.commit(offsets)
                return True
            except KafkaError as error:  # e.g. a rebalance: what was not committed comes back, as a duplicate
                log.info("%s: offset commit failed, committing again: %r", self.group, error)
                self._keep(offsets)
        if not again and (self._retry is None or self._retry.done()):
            self._retry = asyncio.create_task(self._commit_until_done())
        return False

    def _keep(self, offsets: dict[TopicPartition, int]) -> None:
        """After a broker restart every member's commit fails once, as the group rebalances; a partition
        that then got no message had its offset left uncommitted, and the group behind on it (a quiet topic
        of many: its lag as Kafka sees it stayed until the next message there). So a failed commit's offsets
        are committed again, the newer handled since winning. Each is an offset this member handled all
        messages before: committed even after its partition moved, it loses nothing (at worst the new
        holder's later commit is set back, and what it handled comes again as duplicates)."""
        for partition, offset in offsets.items():
            if offset > self._handled.get(partition, -1):
                self._handled[partition] = offset

    async def _commit_until_done(self) -> None:
        while self.halted is None:
            await asyncio.sleep(RECOMMIT_SECONDS)
            if await self._commit(again=True):
                return

    async def _dead_letter(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Iterable[tuple[str, bytes]],
        reason: str,
    ) -> None:
        log.warning("%s: dead-lettering a message from %s: %s", self.group, topic, reason)
        forwarded = {name: raw.decode(errors="replace") for name, raw in headers}
        forwarded |= {
            "dlq_reason": reason,
            "dlq_topic": topic,
            "dlq_consumer": self.group,
        }
        await self.broker.publish(value or b"", dead_letter(topic), key=key, headers=forwarded)
        self.metrics.consumer_outcomes.labels(self.group, topic, "dead_lettered").inc()
        tracing.annotate(outcome="dead_lettered", dlq_reason=reason)
        self.recent_dead_letters.append(True)
        window = self.recent_dead_letters
        if len(window) == window.maxlen and sum(window) / len(window) > self.dlq_max_ratio:
            self.halt(
                ConsumerHaltedError(f"more than {self.dlq_max_ratio:.0%} of the last {len(window)} dead-lettered")
            )

    def member(self) -> AIOKafkaConsumer | None:
        """The aiokafka consumer of this consumer's group member, once started (`group_watch.py`)."""
        consumer: AIOKafkaConsumer | None = self.subscriber.consumer
        return consumer

    def halt(self, error: BaseException) -> None:
        """Stop taking messages and committing, and stop the process (`on_halt`): what was not committed comes
        again to the next member."""
        log.error("%s: halting, offset left uncommitted: %r", self.group, error)
        self.halted = error
        self.on_halt(error)

    def _observe_lag(self, msg: KafkaMessage, topic: str, partition: int, offset: int) -> None:
        highwater = msg.consumer.highwater(TopicPartition(topic, partition))  # type: ignore[attr-defined]
        if highwater is not None:
            lag = max(0, highwater - offset - 1)
            self.metrics.consumer_lag.labels(self.group, topic, str(partition)).set(lag)


async def _the_message(message: KafkaMessage) -> KafkaMessage:
    """The subscriber's decoder: the handler takes the message itself, and reads each record as an envelope (the
    broker applies no types: `wiring.py`). Faststream's own decoder would parse every record's JSON once more."""
    return message
