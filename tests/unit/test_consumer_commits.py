"""After a broker restart: a consumer's offset commit that fails (the group rebalancing) is made again
until it goes through, with what was handled since (a partition that got no message afterwards kept
its group behind as Kafka sees it), and so are the offsets of messages handled while a commit was on
its way; a consumer whose group coordination ended on an error stops its process (it never joined the
group again, and stalled while answering ready)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import TopicPartition
from faststream.kafka import KafkaBroker

from services.chassis.messaging import consumer as consumers
from services.chassis.messaging.consumer import IdempotentConsumer
from services.chassis.runtime.metrics import Metrics

QUIET, BUSY = TopicPartition("tickets.public", 0), TopicPartition("sla.clocks", 1)


class Rebalancing:
    """An aiokafka consumer whose first `failing` commits fail as in a rebalance; what went through."""

    def __init__(self, failing: int) -> None:
        self.failing = failing
        self.committed: dict[TopicPartition, int] = {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.failing:
            self.failing -= 1
            raise CommitFailedError("the group has already rebalanced")
        self.committed |= offsets


def consumer_of(kafka: Any, halts: list[BaseException] | None = None) -> IdempotentConsumer:
    stopped = halts if halts is not None else []
    consumer = IdempotentConsumer(KafkaBroker("127.0.0.1:9", apply_types=False), ["tickets.public"], "webhooks",
                                  lambda *_: None, Metrics("test"), on_halt=stopped.append)  # fmt: skip
    consumer._consumer = kafka
    return consumer


def test_a_commit_that_fails_as_the_group_rebalances_is_made_again_with_what_was_handled_since(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(consumers, "RECOMMIT_SECONDS", 0.01)
    kafka = Rebalancing(failing=2)

    async def scenario() -> None:
        consumer = consumer_of(kafka)
        consumer._handled = {QUIET: 40, BUSY: 7}
        assert not await consumer._commit()  # the broker is back; the group rebalances
        consumer._handled[BUSY] = 9  # handled meanwhile
        for _ in range(100):
            await asyncio.sleep(0.01)
            if kafka.committed:
                break

    asyncio.run(scenario())
    assert kafka.committed == {QUIET: 40, BUSY: 9}


def test_a_halted_consumer_commits_nothing_more_even_after_a_failed_commit(monkeypatch: Any) -> None:
    monkeypatch.setattr(consumers, "RECOMMIT_SECONDS", 0.01)
    kafka = Rebalancing(failing=1)

    async def scenario() -> None:
        consumer = consumer_of(kafka)
        consumer._handled = {QUIET: 40}
        assert not await consumer._commit()
        consumer.halted = RuntimeError("a bug")
        await asyncio.sleep(0.1)

    asyncio.run(scenario())
    assert kafka.committed == {}


class Uncoordinated:
    """An aiokafka consumer whose group coordination routine died: each fetch raises what aiokafka raises."""

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        raise KafkaError("Unexpected error during coordination RuntimeError('the handler is closed')")


def test_a_consumer_whose_group_coordination_ended_stops_its_process_to_be_started_again() -> None:
    halts: list[BaseException] = []
    consumer = consumer_of(Rebalancing(failing=0), halts)
    with pytest.raises(KafkaError):
        asyncio.run(consumer._fetch(Uncoordinated()))
    assert consumer.halted is not None
    assert len(halts) == 1


class Slow:
    """An aiokafka consumer whose commit takes a while; what went through."""

    def __init__(self) -> None:
        self.committed: dict[TopicPartition, int] = {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        await asyncio.sleep(0.05)
        self.committed |= offsets


def test_what_was_handled_while_a_commit_was_on_its_way_is_committed_without_another_message() -> None:
    kafka = Slow()

    async def scenario() -> None:
        consumer = consumer_of(kafka)
        consumer.commit_seconds = 0.01
        consumer._handled = {BUSY: 7}
        flush = asyncio.create_task(consumer._commit_soon())
        await asyncio.sleep(0.03)  # the commit of 7 is on its way
        consumer._handled[BUSY] = 8  # the partition's last message, handled meanwhile
        await asyncio.wait_for(flush, 1.0)

    asyncio.run(scenario())
    assert kafka.committed == {BUSY: 8}
