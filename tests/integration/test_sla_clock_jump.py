"""SLA timers across a wall-clock jump, on real Kafka and PostgreSQL: a clock set forward fires what it passed,
each firing once at its due instant; set back, it fires nothing again and nothing early, and the scheduler is
not left asleep for the jump's length.

The SLA service runs its API and consumer as processes (they start the clocks from the tickets topic); the
scheduler runs in this process on the same store, with its wall clock moved by the test. Moving one process's
wall clock from outside needs libfaketime, whose Debian build (0.9.10) fails every sleep of a Python process
when it fakes the wall clock alone (`FAKETIME_DONT_FAKE_MONOTONIC=1`: `time.sleep` raises EINVAL); faking
both clocks would jump the monotonic one too, which a real wall-clock jump never does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from schemas.topics import TICKETS
from services.chassis.storage.store import store_env, tracking_recorder
from services.sla.application import Sla
from services.sla.timers import Scheduler, TimersView
from tests.client import eventually, headers
from tests.harness import Desk
from tests.sla_load import FIRINGS, clocks_started, open_tickets, outcomes, policy

SLOW, FAST = "jump-slow", "jump-fast"  # tenants: targets of minutes, and of seconds
CLOCKS = 10
FIRINGS_EACH = 6  # per clock: the 50 % and 90 % warnings and the breach, of two targets


class WallClock:
    """The scheduler's wall clock: the real one, moved by `offset` seconds."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def sla(desk: Desk) -> Sla:
    api = desk.service("sla", "api").start()
    desk.service("sla", "consumer").start()
    for tenant, first_response in ((SLOW, 120), (FAST, 4)):
        reply = httpx.put(
            f"{api.url}/v1/sla/policies/jump", headers=headers(tenant),
            json=policy(first_response=timedelta(seconds=first_response),
                        resolution=timedelta(seconds=2 * first_response)),
        )  # fmt: skip
        assert reply.status_code == 200, reply.text
    return Sla(env=store_env(desk.settings, Sla.name))


@pytest.fixture
def wall(desk: Desk, sla: Sla) -> Iterator[WallClock]:
    """The scheduler, running on `wall` until the test ends."""
    clock = WallClock()
    scheduler = Scheduler(sla, TimersView(tracking_recorder(desk.settings, Sla.name)), CollectorRegistry(), wall=clock)
    loop = asyncio.new_event_loop()
    stopping = asyncio.Event()
    runner = threading.Thread(target=loop.run_until_complete, args=(scheduler.run(stopping),), daemon=True)
    runner.start()
    yield clock
    loop.call_soon_threadsafe(stopping.set)
    runner.join(timeout=15)


def firings(sla: Sla, tenant: str) -> list[Any]:
    """The warnings and breaches the store holds for `tenant`'s clocks."""
    found: list[Any] = []
    position = 1
    while notifications := sla.recorder.select_notifications(position, 5000):
        events: list[Any] = [sla.mapper.to_domain_event(notification) for notification in notifications]
        found += [event for event in events if type(event).__name__ in FIRINGS and event.tenant == tenant]
        position = notifications[-1].id + 1
    return found


def test_sla_timers_fire_once_on_their_instant_across_wall_clock_jumps(desk: Desk, sla: Sla, wall: WallClock) -> None:
    topic = desk.settings.kafka_name(TICKETS)
    bootstrap = desk.settings.kafka_bootstrap_servers

    # Set forward 10 minutes: the slow tenant's firings, due 1 to 4 minutes from now, fire at once, each once
    # and at its due instant (recorded before it on the real clock: read on the wall clock, not counted down).
    opened = datetime.now(UTC)
    asyncio.run(open_tickets(bootstrap, topic, SLOW, CLOCKS, opened, spread=1))
    eventually(lambda: clocks_started(sla), lambda n: n == CLOCKS, timeout=60, every=0.5)
    wall.offset = 600.0
    earliest_due = opened + timedelta(seconds=60)
    slow = eventually(lambda: firings(sla, SLOW), lambda f: len(f) == CLOCKS * FIRINGS_EACH, timeout=40, every=0.5)
    assert datetime.now(UTC) < earliest_due, "the firings waited for the real clock"
    assert all(event.timestamp < event.at for event in slow)  # fired on the wall clock, ahead of the real one
    assert all(
        opened <= event.at - timedelta(seconds=60) <= opened + timedelta(seconds=2)
        for event in slow
        if type(event).__name__ == "Warned" and event.metric == "first_response" and event.threshold == 50
    )

    # Set back 20 minutes: nothing fires again, and the fast tenant's firings, due within 8 s on the real clock,
    # wait for the wall clock to reach them.
    wall.offset = -600.0
    opened = datetime.now(UTC)
    asyncio.run(open_tickets(bootstrap, topic, FAST, CLOCKS, opened, spread=1, first_position=CLOCKS + 1))
    eventually(lambda: clocks_started(sla), lambda n: n == 2 * CLOCKS, timeout=60, every=0.5)
    time.sleep(max(0.0, (opened + timedelta(seconds=12) - datetime.now(UTC)).total_seconds()))
    assert firings(sla, FAST) == [], "a firing came before its instant on the wall clock"
    assert len(firings(sla, SLOW)) == CLOCKS * FIRINGS_EACH

    # Right again: the fast firings, ten minutes ahead on the wall clock a moment ago, fire within a poll or
    # two (the scheduler never sleeps longer than its poll, whatever the wall clock said), each once.
    wall.offset = 0.0
    set_right = datetime.now(UTC)
    fast = eventually(lambda: firings(sla, FAST), lambda f: len(f) == CLOCKS * FIRINGS_EACH, timeout=30, every=0.5)
    assert all(event.at <= event.timestamp for event in fast)  # none early
    assert min(event.timestamp for event in fast) >= set_right
    result = outcomes(sla)
    assert result.duplicates == 0, "a firing was recorded twice"
    assert result.firings == 2 * CLOCKS * FIRINGS_EACH
