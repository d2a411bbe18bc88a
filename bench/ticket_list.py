"""The ticket list's projector on PostgreSQL: what writing one ticket event into the list costs (issue 22).

At 200 tickets/s the list's projector was a fifth of the intake api's CPU (`bench.profile_flow`). Here
TICKETS tickets go through the flow's events (opened with tags, assigned, taken into work, answered in
public, resolved) in intake's store; then the list is dropped and made again from them, in batches of
the size the live projector applies under load (BATCH_SIZES: a few events a wake at 200/s, the relay
batch size in a rebuild), ROUNDS times each, interleaved. The figures are the medians of this process's
CPU (the interpreter's share, the one the api runs out of) and of the wall time, per event.

    python -m bench.ticket_list
"""

from __future__ import annotations

import statistics
import time
from typing import Any
from uuid import UUID, uuid4

from bench.results import record
from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.store import tracking_recorder
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from tests.infra import postgres
from tests.privacy import desk_intake, projection_of

TICKETS = 400
BATCH_SIZES = (8, 500)
ROUNDS = 5
CAUSE = Cause("acme", "agent-7", "bench-ticket-list", "bench")


def seed(intake: Intake) -> int:
    """TICKETS tickets through the flow's events; how many events the store holds."""
    for n in range(TICKETS):
        form = TicketForm(
            f"Printer {n} jams on tray two", "The printer on floor three jams whenever tray two is used for "
            "labels, and the queue stops until someone clears it by hand.", f"c-{n % 50}", "web", "hardware",
            "incident", "P3", ["printer", "floor-3"],
        )  # fmt: skip
        ticket_id: UUID = intake.open_ticket(uuid4(), form, CAUSE).ticket.id
        intake.assign(ticket_id, CAUSE, "it", f"agent-{n % 20}", "least loaded")
        intake.start_work(ticket_id, CAUSE, "on it")
        intake.comment(ticket_id, CAUSE, "c1", "Cleared the tray; try again", True, "web", staff=True)
        intake.resolve(ticket_id, CAUSE, "fixed", "tray cleared")
    return intake.recorder.max_notification_id() or 0


def rebuilt(projector: StoreProjector) -> tuple[float, float]:
    """Drop the list and make it again: (CPU seconds of this process, wall seconds)."""
    projector.projection.drop()  # type: ignore[attr-defined]
    cpu, wall = time.process_time(), time.perf_counter()
    projector.catch_up()
    return time.process_time() - cpu, time.perf_counter() - wall


def run() -> None:
    with postgres().fresh_settings() as settings:
        intake = desk_intake(settings)
        secret = settings.personal_data_secret.encode()
        projection = projection_of(intake, tracking_recorder(settings, Intake.name), secret)
        try:
            events = seed(intake)
            projectors = {size: StoreProjector(intake, projection, batch_size=size) for size in BATCH_SIZES}
            samples: dict[int, list[tuple[float, float]]] = {size: [] for size in BATCH_SIZES}
            for _ in range(ROUNDS):
                for size, projector in projectors.items():
                    samples[size].append(rebuilt(projector))
            figures: dict[str, Any] = {"tickets": TICKETS, "events": events, "rounds": ROUNDS}
            for size, taken in samples.items():
                figures[f"batch_{size}"] = {
                    "cpu_us_per_event": round(statistics.median(cpu for cpu, _ in taken) / events * 1e6, 1),
                    "wall_us_per_event": round(statistics.median(wall for _, wall in taken) / events * 1e6, 1),
                }
            record("ticket_list", figures)
        finally:
            projection.view.datastore.close()
            intake.close()


if __name__ == "__main__":
    run()
