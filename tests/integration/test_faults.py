"""Exactly-once through crashes: every acknowledged ticket is counted once, whatever dies."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable

import pytest

from services.analytics import reports
from tests.client import eventually, open_tickets
from tests.desk_invariants import analytics_of, analytics_rebuilt_differs
from tests.harness import Desk, Service
from tests.infra import Control

pytestmark = pytest.mark.serial  # kills the shared Kafka and PostgreSQL

TICKETS = 1000


def assert_counted_exactly_once(desk: Desk, opened: list[str]) -> None:
    assert len(set(opened)) == TICKETS
    projection = analytics_of(desk.settings)
    eventually(lambda: reports.backlog(projection.view, "acme")["open"], lambda n: n >= TICKETS, timeout=90)
    time.sleep(1.0)  # anything still in flight would now show as a duplicate
    rows = projection.rows()
    assert reports.backlog(projection.view, "acme")["open"] == TICKETS
    assert sorted(row["ticket_id"] for row in rows["tickets"]) == sorted(opened), "no ticket missing"
    assert len(rows["tickets"]) == TICKETS, "no ticket counted twice"
    assert projection.applied_count("intake") == TICKETS


class Chaos:
    """Strikes at random moments from a background thread until stopped."""

    def __init__(
        self, strike: Callable[[random.Random], None], pause: tuple[float, float], seed: int, most: int = 1000
    ) -> None:
        self.strike = strike
        self.most = most
        self.pause = pause
        self.random = random.Random(seed)
        self.strikes = 0
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Chaos:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while self.strikes < self.most and not self.done.wait(self.random.uniform(*self.pause)):
            try:
                self.strike(self.random)
            except BaseException as error:  # noqa: BLE001 - reported by __exit__ in the test's thread
                self.error = error
                return
            self.strikes += 1


def kill_and_restart(*victims: Service) -> Callable[[random.Random], None]:
    def strike(rng: random.Random) -> None:
        victim = rng.choice(victims)
        victim.kill()
        time.sleep(rng.uniform(0.0, 0.5))
        victim.start(wait=False)

    return strike


def bounce(control: Control, down: float) -> Callable[[random.Random], None]:
    def strike(rng: random.Random) -> None:
        control.kill()
        time.sleep(down)
        control.start()

    return strike


def start_pipeline(desk: Desk) -> tuple[Service, Service, Service]:
    consumer = desk.service("analytics", "consumer").start()
    relay = desk.service("intake", "relay").start()
    api = desk.service("intake", "api").start()
    return api, relay, consumer


def test_a_thousand_tickets_are_counted_once_while_relay_and_consumer_are_killed(desk: Desk) -> None:
    api, relay, consumer = start_pipeline(desk)

    with Chaos(kill_and_restart(relay, consumer), pause=(0.3, 1.2), seed=3) as chaos:
        opened = asyncio.run(open_tickets(api.url, "acme", TICKETS, concurrency=4))
        time.sleep(2.0)  # keep striking while the backlog drains

    print(f"relay started {relay.starts}x, consumer {consumer.starts}x; {chaos.strikes} SIGKILLs")
    relay.wait_ready()
    consumer.wait_ready()
    assert chaos.strikes >= 4, f"only {chaos.strikes} kills: the test proved little"
    assert_counted_exactly_once(desk, opened)
    consumer.stop()
    assert analytics_rebuilt_differs(desk.settings, {"intake": api.url}) == [], "rebuilt equals live"


@pytest.mark.parametrize("infrastructure", ["kafka", "postgres"])
def test_tickets_are_counted_once_across_a_crash_of(
    infrastructure: str, desk: Desk, request: pytest.FixtureRequest
) -> None:
    control: Control | None = request.getfixturevalue(infrastructure).control
    if control is None:
        pytest.fail(f"this run does not control {infrastructure} (its address is set from outside): cannot crash it")
    api, _, _ = start_pipeline(desk)

    started = time.monotonic()
    with Chaos(bounce(control, down=1.0), pause=(0.5, 2.0), seed=5, most=3) as chaos:
        opened = asyncio.run(open_tickets(api.url, "acme", TICKETS, concurrency=4))

    took = time.monotonic() - started
    print(f"{infrastructure} crashed {chaos.strikes}x while {TICKETS} tickets opened in {took:.1f}s")
    assert chaos.strikes >= 1
    assert_counted_exactly_once(desk, opened)
