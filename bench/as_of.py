"""B7: a ticket of 1,000 events on PostgreSQL, read as it was at any instant and as it is now.

Each read runs with Intake's snapshots (one every 100 events) and without any, both
through the aggregate cache the service uses and, for the current state, without it
(a cold load: snapshot then the events after it, or every event).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from bench.results import percentiles, record
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.domain import Ticket
from services.intake.tickets.form import TicketForm
from tests.infra import postgres
from tests.privacy import memory_intake

EVENTS = 1000
SAMPLES = 500
WARM_UP = 20
TENANT = "acme"
CAUSE = Cause(TENANT, "agent-7", "bench-as-of", "bench")

Read = Callable[[Intake, UUID, datetime], object]
# What is read, and whether through the aggregate cache (as the service does) or cold.
READS: dict[str, tuple[bool, Read]] = {
    "as_of_ms": (True, lambda app, ticket_id, at: app.ticket_as_of(ticket_id, TENANT, at)),
    "get_ticket_cached_ms": (True, lambda app, ticket_id, _: app.get_ticket(ticket_id, TENANT)),
    "get_ticket_uncached_ms": (False, lambda app, ticket_id, _: app.get_ticket(ticket_id, TENANT)),
}


def nth_change(intake: Intake, ticket_id: UUID, n: int) -> None:
    """Odd events add a comment; even ones move the priority between P2 and P3."""
    if n % 2:
        intake.comment(ticket_id, CAUSE, f"c{n}", f"update {n}", True, "web", staff=False)
    else:
        intake.change_priority(ticket_id, CAUSE, ("P3", "P2")[n // 2 % 2], "rebalanced")


def build_ticket(intake: Intake) -> tuple[UUID, list[datetime]]:
    """One ticket whose 1,000 events alternate comments and priority changes; their timestamps."""
    form = TicketForm("Printer jam", "Tray 2 jams", "c-1", "email", "hardware", "incident", "P3")
    ticket_id = intake.open_ticket(uuid4(), form, CAUSE).ticket.id
    for n in range(1, EVENTS):
        nth_change(intake, ticket_id, n)
    stored: list[Any] = list(intake.events.get(ticket_id))
    timestamps: list[datetime] = [domain_event.timestamp for domain_event in stored]
    if len(timestamps) != EVENTS:
        raise RuntimeError(f"the ticket has {len(timestamps)} events, not {EVENTS}")
    return ticket_id, timestamps


def instants_across(timestamps: list[datetime]) -> list[datetime]:
    """SAMPLES instants spread evenly over the ticket's life, in a shuffled order."""
    first, span = timestamps[0], timestamps[-1] - timestamps[0]
    instants = [first + span * k / (SAMPLES - 1) for k in range(SAMPLES)]
    random.Random(7).shuffle(instants)
    return instants


def timed(read: Read, app: Intake, ticket_id: UUID, instants: list[datetime]) -> dict[str, float]:
    for instant in instants[:WARM_UP]:
        read(app, ticket_id, instant)
    latencies = []
    for instant in instants:
        started = time.perf_counter()
        read(app, ticket_id, instant)
        latencies.append((time.perf_counter() - started) * 1000)
    return percentiles(latencies)


def check_snapshots_change_nothing(
    intakes: dict[tuple[bool, bool], Intake], ticket_id: UUID, instants: list[datetime]
) -> None:
    for instant in instants[:10]:
        with_, without = (vars(intakes[s, True].ticket_as_of(ticket_id, TENANT, instant)) for s in (True, False))
        if with_ != without:
            raise RuntimeError(f"the ticket as of {instant} differs with snapshots and without")


def intake_on(config: Settings, snapshots: bool, cache: bool) -> Intake:
    env = store_env(config, Intake.name) | {"IS_SNAPSHOTTING_ENABLED": "y" if snapshots else "n"}
    intake = memory_intake(env if cache else env | {"AGGREGATE_CACHE_MAXSIZE": ""})
    if (intake.snapshots is not None) != snapshots or (intake.repository.cache is not None) != cache:
        raise RuntimeError(f"could not configure snapshots={snapshots} cache={cache}")
    return intake


def run() -> None:
    pg = postgres()
    with pg.fresh_database() as dbname:
        config = Settings.model_validate(
            {
                "persistence": "postgres", "postgres_host": pg.host, "postgres_port": pg.port,
                "postgres_user": pg.user, "postgres_password": pg.password, "postgres_dbname": dbname,
            }
        )  # fmt: skip
        intakes = {
            (snaps, cache): intake_on(config, snaps, cache) for snaps in (True, False) for cache in (True, False)
        }
        try:
            ticket_id, timestamps = build_ticket(intakes[True, True])
            instants = instants_across(timestamps)
            check_snapshots_change_nothing(intakes, ticket_id, instants)
            figures: dict[str, Any] = {
                "events": EVENTS, "samples": SAMPLES, "snapshot_every": Intake.snapshotting_intervals[Ticket],
            }  # fmt: skip
            for name, (cache, read) in READS.items():
                figures[name] = {
                    label: timed(read, intakes[snapshots, cache], ticket_id, instants)
                    for label, snapshots in (("with_snapshots", True), ("without_snapshots", False))
                }
        finally:
            for intake in intakes.values():
                intake.close()
    figures["target_p99_ms"] = {"with_snapshots": 5, "without_snapshots": 20}
    record("as_of", figures)


if __name__ == "__main__":
    run()
