"""A consumer whose member has gone without its group's coordinator for long while Kafka answers is halted, so
its process is started again; a member waiting for a broker that is away, or for a restarted broker to name
the coordinator, is left alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from services.chassis.messaging.group_watch import GroupStalledError, GroupWatch


@dataclass
class Coordinator:
    coordinator_id: int | None = 1


@dataclass
class Member:
    _coordinator: Coordinator = field(default_factory=Coordinator)


@dataclass
class Scene:
    member: Member = field(default_factory=Member)
    kafka_answers: bool = True
    halts: list[BaseException] = field(default_factory=list)

    def watch(self, patience: float = 0.1) -> GroupWatch:
        async def answers() -> bool:
            return self.kafka_answers

        return GroupWatch("webhooks", lambda: self.member, answers, self.halts.append, patience=patience, every=0.01)


async def watched(scene: Scene, seconds: float, patience: float = 0.1) -> None:
    """Run the scene's watch for `seconds`, then stop it as the process would."""
    stopping = asyncio.Event()
    task = asyncio.create_task(scene.watch(patience).run(stopping))
    await asyncio.sleep(seconds)
    stopping.set()
    await asyncio.wait_for(task, timeout=1.0)


def test_a_member_that_lost_its_coordinator_for_good_while_kafka_answers_halts_its_consumer() -> None:
    scene = Scene()
    scene.member._coordinator.coordinator_id = None

    asyncio.run(watched(scene, 0.4))

    [halt] = scene.halts
    assert isinstance(halt, GroupStalledError)
    assert "webhooks" in str(halt)


def test_a_member_whose_broker_is_away_is_left_alone_however_long() -> None:
    scene = Scene(kafka_answers=False)
    scene.member._coordinator.coordinator_id = None

    asyncio.run(watched(scene, 0.4))

    assert scene.halts == []


def test_a_member_that_finds_its_coordinator_again_in_time_is_left_alone() -> None:
    scene = Scene()

    async def restarted_broker() -> None:
        stopping = asyncio.Event()
        task = asyncio.create_task(scene.watch(patience=0.3).run(stopping))
        for _ in range(3):  # the broker loads its groups: no coordinator for a while, each time shorter than patience
            scene.member._coordinator.coordinator_id = None
            await asyncio.sleep(0.15)
            scene.member._coordinator.coordinator_id = 1
            await asyncio.sleep(0.05)
        stopping.set()
        await asyncio.wait_for(task, timeout=1.0)

    asyncio.run(restarted_broker())

    assert scene.halts == []


def test_the_time_without_a_coordinator_counts_only_while_kafka_answers() -> None:
    scene = Scene(kafka_answers=False)
    scene.member._coordinator.coordinator_id = None

    async def broker_back() -> None:
        stopping = asyncio.Event()
        task = asyncio.create_task(scene.watch(patience=0.3).run(stopping))
        await asyncio.sleep(0.5)  # away longer than patience: not the member's fault
        scene.kafka_answers = True
        await asyncio.sleep(0.1)
        assert scene.halts == [], "the broker has answered for less than patience"
        await asyncio.sleep(0.4)
        stopping.set()
        await asyncio.wait_for(task, timeout=1.0)

    asyncio.run(broker_back())

    assert len(scene.halts) == 1
