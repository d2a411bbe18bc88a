"""Durable SLA timers on real Kafka and PostgreSQL: 10,000 live clocks whose warnings and
breaches fall due over a minute and a half, the SLA service SIGKILLed in the middle of
it. Every firing is recorded once, none lost; those due while it was down fire on
restart. (bench/sla_timers.py measures lateness at the same scale, without the kill.)"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx

from schemas.topics import TICKETS
from services.chassis.storage.store import store_env
from services.sla.application import Sla
from tests.client import eventually, headers
from tests.harness import Desk
from tests.sla_load import clocks_started, firings_recorded, open_tickets, outcomes, policy

CLOCKS = 10_000
TENANT = "load"


def test_timers_fire_once_each_across_a_sigkill_of_the_sla_service(desk: Desk) -> None:
    sla_service = desk.service("sla").start()
    reply = httpx.put(
        f"{sla_service.url}/v1/sla/policies/fast", headers=headers(TENANT),
        json=policy(first_response=timedelta(seconds=20), resolution=timedelta(seconds=40)),
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    # Firings fall due from start + 10 s to start + 100 s; the kill comes at start + 45 s (later, if starting
    # every clock takes longer).
    start = datetime.now(UTC) + timedelta(seconds=30)
    topic = desk.settings.kafka_name(TICKETS)
    asyncio.run(open_tickets(desk.settings.kafka_bootstrap_servers, topic, TENANT, CLOCKS, start, spread=60))
    store = Sla(env=store_env(desk.settings, Sla.name))
    eventually(lambda: clocks_started(store), lambda n: n == CLOCKS, timeout=240, every=2.0)

    time.sleep(max(0.0, (start + timedelta(seconds=45) - datetime.now(UTC)).total_seconds()))
    sla_service.kill()  # mid-run: firings keep falling due while it is down
    down_from = datetime.now(UTC)
    time.sleep(3.0)
    sla_service.start()

    expected = CLOCKS * 6  # per clock: 50 % and 90 % warnings and the breach, of two targets
    eventually(lambda: firings_recorded(store), lambda n: n >= expected, timeout=180, every=2.0)
    time.sleep(2.0)
    result = outcomes(store)
    late = sorted(result.lateness["warning"] + result.lateness["breach"])
    print(f"{result.firings} firings; lateness p50 {statistics.median(late):.3f}s"
          f" p99 {late[int(0.99 * len(late))]:.3f}s max {late[-1]:.3f}s; down from {down_from:%H:%M:%S}")  # fmt: skip
    assert result.duplicates == 0, "a firing was recorded twice"
    assert result.firings == expected, "a firing was lost"
