"""Two instances of every consuming service, on real Kafka (six partitions a topic) and
PostgreSQL, one of each SIGKILLed mid-run and restarted later.

Routing, SLA and analytics scale out on Kafka's consumer groups: the second instance joins
its group and takes partitions over, and when one dies the other takes all of them. SLA
timers are rows in the shared store, not partition state: whichever scheduler sees a clock
due fires it, and the clock's optimistic concurrency lets only one firing be recorded.
Relays do not scale out (a store's log is one sequence): of two intake relays one leads,
the other stands by and takes over when the leader dies.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
from aiokafka import AIOKafkaConsumer

from schemas.envelope import Envelope
from schemas.topics import TICKETS
from services.analytics.projections import AnalyticsProjection
from services.analytics.rebuild import from_feeds, rebuild
from services.chassis.storage.store import store_env, tracking_recorder
from services.intake.tickets.application import Intake
from services.intake.tickets.publication import publication
from services.sla.application import Sla
from tests.client import eventually, headers, open_tickets
from tests.desk_invariants import Stores
from tests.harness import Desk, Service
from tests.integration.test_routing_faults import TENANT, form, set_up
from tests.privacy import desk_intake
from tests.sla_load import firings_recorded, outcomes, policy
from tests.tokens import service_token

BATCHES = (120, 120)  # tickets opened before and after the SIGKILLs


def applied(service: Service) -> float:
    """Messages this one instance applied, by its own /metrics."""
    text = httpx.get(f"{service.url}/metrics", timeout=5.0).text
    pattern = r'^servicedesk_consumer_messages_total\{[^}]*outcome="applied"[^}]*\} ([0-9.e+]+)$'
    return sum(float(n) for n in re.findall(pattern, text, re.MULTILINE))


def published_positions(desk: Desk) -> Counter[int]:
    """How many times each of intake's store positions is on the tickets topic."""

    async def read() -> Counter[int]:
        consumer = AIOKafkaConsumer(
            desk.settings.kafka_name(TICKETS), bootstrap_servers=desk.settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest", enable_auto_commit=False, group_id=None,
        )  # fmt: skip
        await consumer.start()
        try:
            seen: Counter[int] = Counter()
            while batches := await consumer.getmany(timeout_ms=2000):
                for records in batches.values():
                    for record in records:
                        seen[Envelope.from_kafka(record.value, record.headers).position] += 1
            return seen
        finally:
            await consumer.stop()

    return asyncio.run(read())


def public_positions(intake: Intake) -> set[int]:
    """The positions of intake's store the relay publishes on the tickets topic (checkpoints go elsewhere)."""
    publish = publication(intake)
    found: set[int] = set()
    position = 1
    while notifications := intake.recorder.select_notifications(position, 5000):
        found |= {n.id for n in notifications if (published := publish(n)) is not None and published[0] == TICKETS}
        position = notifications[-1].id + 1
    return found


def assignments(intake: Intake, ticket_ids: list[str]) -> dict[str, int]:
    """Per ticket, how many times routing's decision assigned it to an agent on intake's stream."""
    counts = {}
    for ticket_id in ticket_ids:
        events: list[Any] = list(intake.events.get(UUID(ticket_id)))
        counts[ticket_id] = sum(
            1 for e in events if type(e).__name__ == "Assigned" and getattr(e, "agent_id", None) is not None
        )
    return counts


def test_two_instances_of_each_consuming_service_share_the_partitions_and_survive_a_sigkill(desk: Desk) -> None:
    desk.env["SERVICEDESK_TOPIC_PARTITIONS"] = "6"  # as in production (other tests use 3: faster to create)
    routing = [desk.service("routing", "all").start() for _ in range(2)]
    sla = [desk.service("sla", "all").start() for _ in range(2)]
    analytics = [desk.service("analytics", "consumer").start() for _ in range(2)]
    relays = [desk.service("intake", "relay").start() for _ in range(2)]
    desk.service("intake", "consumer").start()
    desk.env |= {"SERVICEDESK_ROUTING_URL": routing[1].url, "SERVICEDESK_SLA_URL": sla[1].url}
    api = desk.service("intake", "api").start()
    set_up(api.url)
    reply = httpx.put(f"{api.url}/v1/sla/policies/fast", headers=headers(TENANT),
                      json=policy(first_response=timedelta(seconds=20), resolution=timedelta(seconds=40)))  # fmt: skip
    assert reply.status_code == 200, reply.text

    first = asyncio.run(open_tickets(api.url, TENANT, BATCHES[0], concurrency=4, form=form))
    pairs = (routing, sla, analytics)
    eventually(lambda: [applied(s) for pair in pairs for s in pair], lambda counts: all(n > 0 for n in counts),
               timeout=60, every=1.0)  # fmt: skip  # both instances of each group got partitions
    for victim in (routing[0], sla[0], analytics[0], relays[0]):
        victim.kill()
    survivors_before = [applied(s) for s in (routing[1], sla[1], analytics[1])]
    second = asyncio.run(open_tickets(api.url, TENANT, BATCHES[1], concurrency=4, form=form))
    eventually(lambda: [applied(s) for s in (routing[1], sla[1], analytics[1])],
               lambda now: all(n > b for n, b in zip(now, survivors_before, strict=True)),
               timeout=60, every=1.0)  # fmt: skip  # the survivors took their partners' partitions over
    time.sleep(2.0)
    for victim in (routing[0], sla[0], analytics[0], relays[0]):
        victim.start()
    opened = first + second

    stores = Stores(desk.settings)
    eventually(lambda: stores.undecided(opened), lambda undecided: not undecided, timeout=120, every=2.0)
    intake = desk_intake(desk.settings)  # one reader of intake's store for the test's own checks
    counts = assignments(intake, opened)
    assert max(counts.values()) == 1, "a ticket was assigned twice"
    assert all(len(agent.tickets) <= agent.capacity for agent in stores.agents())

    clocks = Sla(env=store_env(desk.settings, Sla.name))
    expected = len(opened) * 6  # per ticket: 50 % and 90 % warnings and the breach, of two targets
    eventually(lambda: firings_recorded(clocks), lambda n: n >= expected, timeout=120, every=2.0)
    time.sleep(2.0)
    result = outcomes(clocks)
    assert (result.firings, result.duplicates) == (expected, 0), "every SLA timer fires exactly once"

    positions = published_positions(desk)
    assert set(positions) == public_positions(intake), "every public event published, nothing else"
    twice = sum(n > 1 for n in positions.values())
    print(f"positions published twice after the leading relay's SIGKILL: {twice}")
    assert twice <= desk.settings.relay_batch_size, "at most the batch the dead leader had not recorded"

    projection = AnalyticsProjection(tracking_recorder(desk.settings, "analytics"))
    eventually(lambda: projection.applied_count("intake"), lambda n: n >= len(positions), timeout=60, every=1.0)
    for instance in analytics:
        instance.stop()
    assert rebuild(
        projection, from_feeds({"intake": api.url, "sla": sla[1].url}, service_token), progress=None
    ).equals_live
