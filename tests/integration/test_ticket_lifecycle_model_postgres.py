"""The lifecycle model again, on real PostgreSQL: the same rules, fewer examples."""

from __future__ import annotations

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from services.intake.tickets.application import Intake
from tests.infra import Postgres
from tests.privacy import desk_intake
from tests.unit.test_ticket_lifecycle_model import TicketLifecycle


def test_any_sequence_of_commands_keeps_the_lifecycle_on_postgresql(postgres: Postgres) -> None:
    with postgres.fresh_settings() as config:
        intake = desk_intake(config)

        class TicketLifecycleOnPostgres(TicketLifecycle):
            def new_intake(self) -> Intake:
                return intake  # one store for every example; each example opens its own tickets

        try:
            run_state_machine_as_test(
                TicketLifecycleOnPostgres, settings=settings(max_examples=20, stateful_step_count=25, deadline=None)
            )
        finally:
            intake.close()
