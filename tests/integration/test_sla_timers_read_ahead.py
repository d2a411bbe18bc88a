"""The SLA scheduler reads ahead, on real PostgreSQL: between steps it puts in its cache the clocks due within the
second, so a firing step finds them there instead of rebuilding each when it is due; the clocks due later wait.
Firing from the cache still records each warning once, at its due instant and not before. The scheduler runs in
this process on a wall clock the test sets; the clocks are started by the consumer's reactions on the same store.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from prometheus_client import CollectorRegistry

from schemas.envelope import Envelope
from schemas.registry import parse_data
from services.chassis.storage.store import store_env, tracking_recorder
from services.sla.application import Sla
from services.sla.policies import ALWAYS
from services.sla.reactions import reactions
from services.sla.timers import Scheduler, TimersView
from tests.harness import Desk

TENANT = "ahead"
FIRST_RESPONSE = 60  # seconds; the first warning falls due at half of it


def open_ticket(sla: Sla, position: int, at: datetime) -> UUID:
    ticket_id = uuid.uuid4()
    envelope = Envelope(
        id=uuid.uuid4(), type="ticket.opened", version=2, source="intake", subject=str(ticket_id), tenant=TENANT,
        actor="customer", occurred_at=at, sequence=1, position=position, correlation_id="c", causation_id="c",
        data={"ticket_id": str(ticket_id), "number": f"SD-{position}", "requester_id": "customer",
              "channel": "api", "category": "general", "type": "request", "priority": "P3"},
    )  # fmt: skip
    reactions(sla)(envelope, parse_data(envelope), Tracking("intake.tickets", position))
    return ticket_id


def cached(sla: Sla, clock_id: UUID) -> bool:
    try:
        sla.repository.cache.get(clock_id)  # type: ignore[union-attr]
    except KeyError:
        return False
    return True


def warnings(sla: Sla, clock_id: UUID) -> list[Any]:
    return [event for event in sla.events.get(clock_id) if type(event).__name__ == "Warned"]


def test_the_sla_scheduler_has_the_clocks_due_within_the_second_cached_before_they_fall_due(desk: Desk) -> None:
    consumer = Sla(env=store_env(desk.settings, Sla.name))
    consumer.define_policy(TENANT, {"policy_id": "std", "match": {}, "calendar": ALWAYS, "warn_at": [50, 90],
                                    "targets": {"first_response": FIRST_RESPONSE, "resolution": 600}})  # fmt: skip
    opened = datetime.now(UTC)
    positions = itertools.count(1)
    soon = open_ticket(consumer, next(positions), opened)
    later = open_ticket(consumer, next(positions), opened + timedelta(seconds=10))
    first_warning = opened + timedelta(seconds=FIRST_RESPONSE / 2)

    now = first_warning - timedelta(seconds=0.5)
    sla = Sla(env=store_env(desk.settings, Sla.name))  # the scheduler's own process: nothing cached yet
    wall: Callable[[], float] = lambda: now.timestamp()  # noqa: E731
    scheduler = Scheduler(sla, TimersView(tracking_recorder(desk.settings, Sla.name)), CollectorRegistry(), wall=wall)

    assert scheduler.step() > 0, "nothing is due yet"
    scheduler.ahead()  # as it runs while it waits for the next step
    assert cached(sla, soon), "the clock due within the second was read ahead"
    assert not cached(sla, later), "a clock due in ten seconds waits"
    assert warnings(sla, soon) == []

    now = first_warning + timedelta(seconds=0.01)
    scheduler.step()
    fired = warnings(sla, soon)
    assert [(event.threshold, event.at) for event in fired] == [(50, first_warning)]
    assert warnings(sla, later) == []
    scheduler.step()
    assert len(warnings(sla, soon)) == 1, "fired once"
