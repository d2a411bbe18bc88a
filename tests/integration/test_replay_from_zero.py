"""Consuming every topic again from offset 0 produces no new effect: on a desk that opened, routed and
assigned tickets and started their SLA clocks, the consumers' groups (routing's, intake's, SLA's and
analytics') are set back to the beginning of every partition they read; started again, they read it all
once more and record nothing new (no event in any store, no record on any topic, no row of analytics
changed), and every ticket is still assigned once. The same of the mailer's consumer (SLA's clocks, which
remind a customer) and the webhooks' (every public topic): no mail goes out again, no webhook is delivered
again."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

from services.chassis.storage.store import store_env
from services.intake.people.conversations import ReplyRoute
from services.sla.application import Sla
from tests.channel_peers import BotApi, Receiver, Sink
from tests.client import eventually, headers, open_tickets
from tests.desk_invariants import Stores, analytics_of
from tests.harness import Desk, Service
from tests.integration.test_notifications import TENANT as MAIL_TENANT
from tests.integration.test_notifications import Channels, open_ticket, post, with_channels
from tests.integration.test_routing_faults import TENANT, form, set_up
from tests.integration.test_webhooks import feed_ids, subscribe
from tests.sla_load import policy

GROUPS = ("routing", "intake", "sla", "analytics")
TICKETS = 30
MAILED = 3  # tickets whose customer is mailed six times each
INTAKE_ROLES = ("relay", "consumer", "mailer", "webhooks", "api")


async def committed(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


async def members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    return sum(len(group[5]) for response in described for group in response.groups)  # a group's members


async def rewind(bootstrap: str, group: str, partitions: list[TopicPartition]) -> None:
    """Commit offset 0 on every partition of `partitions` for the (stopped) group, as an operator resets it:
    once the group is empty. The desk's consumers are static members (`SERVICEDESK_INSTANCE_ID`), which a
    clean stop does not take out of their group: Kafka drops them when their session ends."""
    deadline = time.monotonic() + 60
    while await members(bootstrap, group) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
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
    relays = [desk.service(name, "relay") for name in ("routing", "intake", "sla")]
    apis = [desk.service(name, "api") for name in ("routing", "sla")]
    consumers = [desk.service(name, "consumer") for name in ("routing", "intake", "sla", "analytics")]
    api = desk.service("intake", "api")
    desk.start_together(*apis, *relays, *consumers, api)
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


def test_the_mailer_and_the_webhooks_consuming_again_from_offset_zero_send_nothing_twice(
    desk: Desk, sink: Sink, bot_api: BotApi
) -> None:
    """Tickets acknowledged, put waiting for the customer, reminded twice, resolved and surveyed by mail, and
    every event of the feed delivered to a webhook; the mailer's consumer (SLA's clocks: the reminders) and
    the webhooks' (every public topic) set back to offset 0 and started again: no mail and no delivery more."""
    with_channels(desk, sink, bot_api)
    desk.env |= {"SERVICEDESK_WEBHOOK_RETRY_BASE_SECONDS": "0.05", "SERVICEDESK_AUDIT_CHECKPOINT_SECONDS": "3600"}
    sla = desk.service("sla")
    desk.env["SERVICEDESK_SLA_URL"] = sla.url
    relay, consumer, mailer, webhooks, api = (desk.service("intake", role) for role in INTAKE_ROLES)
    desk.start_together(sla, relay, consumer, mailer, webhooks, api)
    channels = Channels(desk)
    receiver = Receiver().start()
    try:
        replayed_once(desk, sink, api.url, mailer, webhooks, channels, receiver)
    finally:
        receiver.stop()


def replayed_once(desk: Desk, sink: Sink, gateway_url: str, mailer: Service, webhooks: Service, channels: Channels,
                  receiver: Receiver) -> None:  # fmt: skip
    with httpx.Client(base_url=gateway_url, timeout=10.0, headers=headers(MAIL_TENANT)) as gateway:
        reply = gateway.put("/v1/webhooks/settings/private-network", json={"allow_private_network": True})
        assert reply.status_code == 200, reply.text
        subscribe(gateway, receiver)
        policy = {"targets": {"resolution": "P1D"}, "reminders": {"every": "PT1S", "count": 2}}
        assert gateway.put("/v1/sla/policies/standard", json=policy).status_code in (200, 201)
        tickets = []
        for n in range(MAILED):
            requester = channels.people.requester_for(MAIL_TENANT, "email", f"c{n}@example.com", f"C{n}", "en")
            ticket_id = open_ticket(gateway, requester)["id"]
            route = ReplyRoute("email", f"c{n}@example.com", f"<c{n}@x.test>")
            channels.route(ticket_id, requester, route, f"<c{n}@x.test>")
            tickets.append(ticket_id)
        for ticket_id in tickets:
            eventually(partial(clocks_of, gateway, ticket_id), lambda clocks: "resolution" in clocks)
            until = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
            post(
                gateway,
                f"/v1/tickets/{ticket_id}/pending",
                {"waiting_for": "customer", "until": until, "reason": "logs?"},
            )
        # acknowledgement, waiting for your answer, two reminders, resolved, survey
        eventually(lambda: [len(sink.of(t)) for t in tickets], lambda counts: min(counts) >= 6, timeout=90)
        eventually(lambda: (feed_ids(gateway), delivered(receiver)), lambda pair: set(pair[0]) == pair[1], timeout=60)
    groups = {name: desk.settings.kafka_name(name) for name in ("intake-notifications", "intake-webhooks")}
    bootstrap = desk.settings.kafka_bootstrap_servers
    time.sleep(2.0)  # the last offsets committed
    read = {group: asyncio.run(committed(bootstrap, name)) for group, name in groups.items()}
    assert all(read.values()), f"each consumer committed what it read: {read}"
    mailer.stop()
    webhooks.stop()
    mails, requests = len(sink.messages), receiver.requests

    for group, name in groups.items():
        asyncio.run(rewind(bootstrap, name, list(read[group])))
        assert set(asyncio.run(committed(bootstrap, name)).values()) == {0}
    mailer.start()
    webhooks.start()
    for group, name in groups.items():  # read everything again, up to where they were
        caught_up(bootstrap, name, read[group])
    time.sleep(7.0)  # past the mailer's claim (5 s) and the webhooks' retries: a second sending would be out

    assert len(sink.messages) == mails, "no mail went out again"
    assert receiver.requests == requests, "no webhook was delivered again"
    assert [len(sink.of(t)) for t in tickets] == [6] * MAILED
    assert len(receiver.received) == len({r["_webhook_id"] for r in receiver.received}), "one delivery per event"


def clocks_of(gateway: httpx.Client, ticket_id: str) -> dict[str, Any]:
    clocks: dict[str, Any] = gateway.get(f"/v1/tickets/{ticket_id}").json()["sla"]
    return clocks


def delivered(receiver: Receiver) -> set[str]:
    return {payload["_webhook_id"] for payload in receiver.received}
