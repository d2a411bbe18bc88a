"""An outbox worker sleeps until there is something to send: rows committed, or a retry falling due."""

from __future__ import annotations

import asyncio
import threading
import time

from services.chassis.messaging.outbox import Doorbell, drain


async def _steps_after(doorbell: Doorbell, act: object, seconds: float, idle_seconds: float = 5.0) -> list[float]:
    """The instants `drain` ran its step during `seconds`, `act` called (from a thread) after the first."""
    stopping = asyncio.Event()
    steps: list[float] = []

    async def step() -> int:
        steps.append(time.monotonic())
        if len(steps) == 1:
            threading.Timer(0.2, act).start()  # type: ignore[arg-type]
        return 0

    worker = asyncio.create_task(drain(stopping, "test", step, doorbell, idle_seconds=idle_seconds))
    await asyncio.sleep(seconds)
    stopping.set()
    await worker
    return [at - steps[0] for at in steps]


def test_a_worker_looks_again_as_soon_as_a_row_to_send_is_committed() -> None:
    doorbell = Doorbell()
    steps = asyncio.run(_steps_after(doorbell, doorbell.ring, 1.0))
    assert len(steps) == 2
    assert 0.2 <= steps[1] < 0.5


def test_a_worker_looks_again_when_a_retry_falls_due_not_before() -> None:
    doorbell = Doorbell()

    def put_off() -> None:
        doorbell.ring_at(time.time() + 0.3)
        doorbell.ring()  # the attempt's outcome was recorded: the worker looks, finds nothing due yet

    steps = asyncio.run(_steps_after(doorbell, put_off, 1.5))
    assert len(steps) == 3
    assert 0.2 <= steps[1] < 0.45
    assert 0.5 <= steps[2] < 0.8


def test_an_idle_worker_still_looks_every_idle_period() -> None:
    steps = asyncio.run(_steps_after(Doorbell(), lambda: None, 1.1, idle_seconds=0.5))
    assert len(steps) == 3
    assert 0.5 <= steps[1] < 0.7
