"""Intake's CPU a ticket opened when openings come in together, on PostgreSQL (issue 22).

The gateway hands the POSTs it holds at once to one thread (services/chassis/runtime/thread_batches.py), and
`Intake.open_tickets` checks, numbers and saves them together: under load a batch holds several. This times
that call alone, for batches of BATCH_SIZES tickets of one tenant: ROUNDS rounds of BATCHES batches each, after
a warm-up, and the median round's CPU of this process a ticket (the intake api's interpreter is the flow's
ceiling). `bench.ticket_open` times one POST through the whole app; this, what a batch shares.

    python -m bench.open_batches
"""

from __future__ import annotations

import statistics
import time
from typing import Any
from uuid import uuid4

from bench.results import record
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from services.intake.tickets.opening import TicketRequest
from tests.infra import postgres
from tests.privacy import desk_intake

BATCH_SIZES = (1, 8)
BATCHES = 40
ROUNDS = 7
WARM_UP = 30
CAUSE = Cause("acme", "agent-7", "bench-open-batches", "bench")


def batch(size: int) -> list[TicketRequest]:
    form = TicketForm("Printer jam", "Tray 2 jams on labels", "c-1", "api", "hardware", "incident", "P3")
    return [TicketRequest(uuid4(), form, CAUSE) for _ in range(size)]


def cpu_us_a_ticket(intake: Intake, size: int) -> float:
    """The median round's CPU of this process a ticket, in batches of `size`."""
    for _ in range(WARM_UP):
        intake.open_tickets(batch(size))
    rounds = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(BATCHES):
            outcomes = intake.open_tickets(batch(size))
            if failed := [outcome for outcome in outcomes if isinstance(outcome, BaseException)]:
                raise RuntimeError(f"an opening failed: {failed[0]!r}")
        rounds.append((time.process_time() - started) / (BATCHES * size) * 1e6)
    return statistics.median(rounds)


def run() -> None:
    with postgres().fresh_settings() as settings:
        intake = desk_intake(settings)
        try:
            figures: dict[str, Any] = {"batches": BATCHES, "rounds": ROUNDS}
            for size in BATCH_SIZES:
                figures[f"batch_{size}_cpu_us_per_ticket"] = round(cpu_us_a_ticket(intake, size), 1)
            record("open_batches", figures)
        finally:
            intake.close()


if __name__ == "__main__":
    run()
