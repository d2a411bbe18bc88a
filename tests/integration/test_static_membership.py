"""A consumer process started again under its name (`SERVICEDESK_INSTANCE_ID`, which the harness gives
each process as a StatefulSet names its pods) is a static member of its group (KIP-345): Kafka hands it
its partitions back at once, with no rebalance, instead of waiting out its killed predecessor's session,
and its group mate goes on undisturbed. Dynamic members, named for nothing, could not: the killed member
stays in the group until its session ends, and its return rebalances the group, mate included."""

from __future__ import annotations

import asyncio
import re

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocol

from tests.client import eventually, open_tickets
from tests.harness import Desk, Service
from tests.integration.test_scale_out import applied

TENANT = "acme"


def assignments(service: Service) -> float:
    """The partition assignments this process's consumer received: one as it joined, one more a rebalance."""
    text = httpx.get(f"{service.url}/metrics", timeout=5.0).text
    return sum(float(n) for n in re.findall(r"^servicedesk_consumer_assignments_total\{[^}]*\} (\S+)$", text, re.M))


def members(desk: Desk, group: str) -> dict[str, set[tuple[str, int]]]:
    """The group's members as Kafka sees them: member id (a static member's begins with its name) -> partitions."""

    async def describe() -> dict[str, set[tuple[str, int]]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=desk.settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            [response] = await admin.describe_consumer_groups([desk.settings.kafka_name(group)])
            [(_, _, _, _, _, found, *_)] = response.groups
            return {
                member_id: {
                    (topic, partition)
                    for topic, partitions in ConsumerProtocol.ASSIGNMENT.decode(assignment).assignment
                    for partition in partitions
                }
                for member_id, _, _, _, assignment in found
            }
        finally:
            await admin.close()

    return asyncio.run(describe())


def test_a_killed_consumer_back_under_its_name_takes_its_partitions_at_once(desk: Desk) -> None:
    desk.env["SERVICEDESK_TOPIC_PARTITIONS"] = "6"
    # far longer than a restart takes: back under its name, the consumer cannot be waiting its session out
    desk.env["SERVICEDESK_STATIC_SESSION_SECONDS"] = "120"
    killed, mate = [desk.service("analytics", "consumer").start() for _ in range(2)]
    desk.service("intake", "relay").start()
    api = desk.service("intake", "api").start()
    before = eventually(lambda: members(desk, "analytics"), lambda m: len(m) == 2 and all(m.values()), timeout=60)
    (killed_id,) = [m for m in before if m.startswith(f"{killed.instance}-")]
    (mate_id,) = [m for m in before if m.startswith(f"{mate.instance}-")]
    mate_assignments = assignments(mate)

    killed.kill()
    killed.start()
    after = eventually(lambda: members(desk, "analytics"), lambda m: killed_id not in m, timeout=60)
    (back_id,) = [m for m in after if m.startswith(f"{killed.instance}-")]  # the new process, its predecessor fenced
    assert after == {back_id: before[killed_id], mate_id: before[mate_id]}, "each holds the partitions it held"
    assert assignments(killed) == 1, "the new process joined once, and was given its partitions"

    asyncio.run(open_tickets(api.url, TENANT, 30, concurrency=4))
    eventually(lambda: (applied(killed), applied(mate)), lambda counts: all(n > 0 for n in counts), timeout=60)
    assert assignments(mate) == mate_assignments, "its mate was never rebalanced"
    assert members(desk, "analytics") == after
