"""Consuming every topic again from offset 0 produces no new effect: on a desk that opened, routed and
assigned tickets and started their SLA clocks, the consumers' groups (routing's, intake's, SLA's and
analytics') are set back to the beginning of every partition they read; started again, they read it all
once more and record nothing new (no event in any store, no record on any topic, no row of analytics
changed), and every ticket is still assigned once. (The mailer's and webhooks' consumers, which need the
peers they send to, are struck under load by bench/faults.py instead.)"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

from services.chassis.storage.store import store_env
from services.sla.application import Sla
from tests.client import eventually, headers, open_tickets
from tests.desk_invariants import Stores, analytics_of
from tests.harness import Desk
from tests.integration.test_routing_faults import TENANT, form, set_up
from tests.sla_load import policy

GROUPS = ("routing", "intake", "sla", "analytics")
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
    desk.service("sla", "api").start()
    desk.service("sla", "relay").start()
    consumers = [desk.service(name, "consumer").start() for name in ("routing", "intake", "sla", "analytics")]
    api = desk.service("intake", "api").start()
    set_up(api.url)
    targets = policy(timedelta(hours=1), timedelta(hours=8))  # none falls due while the test runs
    with httpx.Client(base_url=api.url, timeout=10.0, headers=headers(TENANT)) as client:
        client.put("/v1/sla/policies/standard", json=targets).raise_for_status()
    stores = Stores(desk.settings)
    sla = Sla(env=store_env(desk.settings, Sla.name))
    analytics = analytics_of(desk.settings)
    opened = asyncio.run(open_tickets(api.url, "acme", TICKETS, concurrency=4, form=form))
    eventually(lambda: stores.undecided(opened), lambda undecided: not undecided, timeout=120, every=1.0)
    eventually(lambda: len(analytics.rows()["target_cycles"]), lambda n: n >= 2 * TICKETS, timeout=120, every=1.0)
    groups = {group: desk.settings.kafka_name(group) for group in GROUPS}
    time.sleep(2.0)  # the last offsets committed
    read = {group: asyncio.run(committed(bootstrap, name)) for group, name in groups.items()}
    for consumer in consumers:
        consumer.stop()
    partitions = sorted({tp for offsets in read.values() for tp in offsets})
    assert partitions, "the consumers committed what they read"
    stores_of = (stores.intake, stores.routing, sla)
    before = [app.recorder.max_notification_id() for app in stores_of]
    rows_before, applied_before = analytics.fingerprint(), analytics.applied_count("intake")
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

    assert [app.recorder.max_notification_id() for app in stores_of] == before, "no new event in any store"
    assert analytics.fingerprint() == rows_before, "no row of analytics changed"
    assert analytics.applied_count("intake") == applied_before
    assert asyncio.run(ends(bootstrap, partitions)) == topics_before, "no new record on any topic"
    assigned = {t: [type(e).__name__ for e in stores.events(stores.intake, t)].count("Assigned") for t in opened}
    assert assigned == assigned_before
    assert all(count <= 1 for count in assigned.values())
