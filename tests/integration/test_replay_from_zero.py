"""Consuming every topic again from offset 0 produces no new effect: on a desk that opened, routed and
assigned tickets, the consumers' groups are set back to the beginning of every partition they read;
started again, they read it all once more and record nothing new (no event in any store, no record
on any topic), and every ticket is still assigned once."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

from tests.client import eventually, open_tickets
from tests.desk_invariants import Stores
from tests.harness import Desk
from tests.integration.test_routing_faults import form, set_up

GROUPS = ("routing", "intake")
TICKETS = 30


async def committed(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


async def rewind(bootstrap: str, group: str, partitions: list[TopicPartition]) -> None:
    """Commit offset 0 on every partition of `partitions` for the (stopped) group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit({tp: OffsetAndMetadata(0, "") for tp in partitions})
    finally:
        await consumer.stop()


async def ends(bootstrap: str, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        found: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return found
    finally:
        await consumer.stop()


def caught_up(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    def now() -> dict[TopicPartition, int]:
        return asyncio.run(committed(bootstrap, group))

    eventually(now, lambda found: all(found.get(tp, 0) >= offset for tp, offset in offsets.items()), timeout=120)


def test_consuming_every_topic_again_from_offset_zero_changes_nothing(desk: Desk) -> None:
    bootstrap = desk.settings.kafka_bootstrap_servers
    desk.env["SERVICEDESK_AUDIT_CHECKPOINT_SECONDS"] = "3600"  # intake's relay signs no checkpoint meanwhile
    desk.service("routing", "api").start()
    desk.service("routing", "relay").start()
    desk.service("intake", "relay").start()
    consumers = [desk.service("routing", "consumer").start(), desk.service("intake", "consumer").start()]
    api = desk.service("intake", "api").start()
    set_up(api.url)
    stores = Stores(desk.settings)
    opened = asyncio.run(open_tickets(api.url, "acme", TICKETS, concurrency=4, form=form))
    eventually(lambda: stores.undecided(opened), lambda undecided: not undecided, timeout=120, every=1.0)
    groups = {group: desk.settings.kafka_name(group) for group in GROUPS}
    time.sleep(2.0)  # the last offsets committed
    read = {group: asyncio.run(committed(bootstrap, name)) for group, name in groups.items()}
    for consumer in consumers:
        consumer.stop()
    partitions = sorted({tp for offsets in read.values() for tp in offsets})
    assert partitions, "the consumers committed what they read"
    before = (stores.intake.recorder.max_notification_id(), stores.routing.recorder.max_notification_id())
    topics_before = asyncio.run(ends(bootstrap, partitions))
    assigned_before = {t: [type(e).__name__ for e in stores.events(stores.intake, t)].count("Assigned") for t in opened}

    for group, name in groups.items():
        asyncio.run(rewind(bootstrap, name, list(read[group])))
        assert set(asyncio.run(committed(bootstrap, name)).values()) == {0}
    for consumer in consumers:
        consumer.start()
    for group, name in groups.items():  # read everything again, up to where they were
        caught_up(bootstrap, name, read[group])
    time.sleep(3.0)  # whatever the relays would publish of a new effect, they would have

    assert (stores.intake.recorder.max_notification_id(), stores.routing.recorder.max_notification_id()) == before
    assert asyncio.run(ends(bootstrap, partitions)) == topics_before, "no new record on any topic"
    assigned = {t: [type(e).__name__ for e in stores.events(stores.intake, t)].count("Assigned") for t in opened}
    assert assigned == assigned_before
    assert all(count <= 1 for count in assigned.values())
