"""Everything a set of topics holds now, from the beginning, a page at a time: the other source a
read model rebuilds from (the services' event feeds are the one for what Kafka no longer keeps).

Read outside any consumer group (nothing is committed), partition by partition up to the end
offsets taken at the start, so it ends. Events of one ticket stay in order (one partition);
across partitions there is no order, which a projection whose rows each belong to one entity
does not need. A malformed record (or one of a type this build does not know) is skipped and
counted: the live consumer dead-lettered it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.envelope import MalformedEventError, kafka_fields
from schemas.registry import TypedEnvelope, typed

log = logging.getLogger(__name__)

_DONE = object()


@dataclass
class TopicHistory:
    bootstrap: str
    topics: list[str]
    page_size: int = 5000
    since: datetime | None = None  # read from the first record published at or after this instant
    skipped: int = 0
    _error: list[BaseException] = field(default_factory=list)

    def pages(self) -> Iterator[list[TypedEnvelope]]:
        """Pages of envelopes, each one's data read with it; Kafka is read on a thread of its own
        meanwhile (two pages ahead)."""
        handoff: queue.Queue[object] = queue.Queue(maxsize=2)
        reader = threading.Thread(target=lambda: asyncio.run(self._read(handoff)), name="topic-history", daemon=True)
        reader.start()
        while (item := handoff.get()) is not _DONE:
            assert isinstance(item, list)
            yield item
        reader.join()
        if self._error:
            raise self._error[0]

    async def _read(self, handoff: queue.Queue[object]) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
        )
        await consumer.start()
        try:
            partitions = [
                TopicPartition(topic, p) for topic in self.topics for p in sorted(await _partitions(consumer, topic))
            ]
            if not partitions:
                return
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            remaining = {tp for tp in partitions if ends[tp] > 0}
            if self.since is not None:
                remaining = await _seek_to(consumer, remaining, self.since)
            page: list[TypedEnvelope] = []
            while remaining:
                batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=self.page_size)
                for tp, records in batches.items():
                    for record in records:
                        if record.offset >= ends[tp]:
                            break
                        try:
                            page.append(typed(kafka_fields(record.value, record.headers)))
                        except MalformedEventError as error:
                            self.skipped += 1
                            log.warning("skipping a malformed record of %s at %d: %s", tp, record.offset, error)
                    if records and records[-1].offset >= ends[tp] - 1:
                        remaining.discard(tp)
                if len(page) >= self.page_size or (page and not remaining):
                    handoff.put(page)
                    page = []
        except BaseException as error:  # noqa: BLE001 - handed to the reading thread
            self._error.append(error)
        finally:
            handoff.put(_DONE)
            with contextlib.suppress(asyncio.CancelledError):  # aiokafka cancels its own task on stop
                await consumer.stop()


async def _seek_to(consumer: AIOKafkaConsumer, partitions: set[TopicPartition], since: datetime) -> set[TopicPartition]:
    """Each partition positioned at its first record published at or after `since`; those with none
    such are left out."""
    if not partitions:
        return partitions
    found = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in partitions})
    for tp, at in found.items():
        if at is not None:
            consumer.seek(tp, at.offset)
    return {tp for tp, at in found.items() if at is not None}


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    """The topic's partitions; none when it does not exist (nothing was ever published to it)."""
    cluster = await consumer._client.fetch_all_metadata()  # the consumer's own view holds assigned topics only
    return set(cluster.partitions_for_topic(topic) or ())
