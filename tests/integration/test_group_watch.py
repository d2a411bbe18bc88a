"""Against a real broker: a consumer whose aiokafka member stops looking for its group's coordinator (as one
did after a broker's SIGKILL under load, and never looked again) is halted, so its process is started again;
a consumer in its group is left alone. Also proves that the watch still reads aiokafka's coordinator where it is."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from faststream.kafka import KafkaBroker

from services.chassis.messaging.consumer import IdempotentConsumer
from services.chassis.messaging.group_watch import GroupStalledError, GroupWatch, coordinator_known
from services.chassis.messaging.kafka import ensure_topics
from services.chassis.runtime.metrics import Metrics
from tests import infra


async def until(condition: Any, seconds: float) -> bool:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return True
        await asyncio.sleep(0.1)
    return bool(condition())


def test_a_consumer_whose_member_stopped_looking_for_its_coordinator_is_halted(kafka: infra.Kafka) -> None:
    topic, group = f"watch-{uuid.uuid4().hex[:8]}", f"watch-{uuid.uuid4().hex[:8]}"
    halts: list[BaseException] = []

    async def scenario() -> None:
        await ensure_topics(kafka.bootstrap, [topic], 1)
        broker = KafkaBroker(kafka.bootstrap, apply_types=False, logger=None)
        consumer = IdempotentConsumer(broker, [topic], group, lambda *_: None, Metrics("test"), on_halt=halts.append)

        async def answers() -> bool:
            return await broker.ping(timeout=1.0)

        watch = GroupWatch(group, consumer.member, answers, consumer.halt, patience=2.0, every=0.2)
        stopping = asyncio.Event()
        await broker.start()
        watching = asyncio.create_task(watch.run(stopping))
        never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        known = 0
        try:
            member: Any = consumer.member()
            assert await until(lambda: coordinator_known(member) and member.assignment(), 30), "joined its group"
            await asyncio.sleep(3.0)
            assert halts == [], "a member in its group is left alone"

            async def lookup_that_never_answers(*_: Any) -> int:
                return await never

            known = member._coordinator.coordinator_id
            member._client.coordinator_lookup = lookup_that_never_answers  # what aiokafka was seen doing
            member._coordinator.coordinator_dead()  # as when the broker went away
            assert await until(lambda: halts, 10), "halted within its patience"
        finally:
            if not never.done():
                never.set_result(known)  # the lookup answers at last: the member can stop
            stopping.set()
            await watching
            await asyncio.wait_for(broker.stop(), timeout=20)

    asyncio.run(scenario())

    [halt] = halts
    assert isinstance(halt, GroupStalledError)
    assert group in str(halt)
