"""The ticket list and search on real PostgreSQL: the same scenarios as on SQLite.

Intake's store and the list share one fresh database per test, as in production
(the view's tracking rows go to `intake_tracking`, next to the events).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.store import tracking_recorder
from services.intake.tickets.application import Intake
from tests.infra import Postgres
from tests.privacy import desk_intake, projection_of
from tests.unit.test_ticket_queries import TicketQueries, Tickets


@pytest.fixture
def tickets(postgres: Postgres) -> Iterator[Tickets]:
    with postgres.fresh_settings() as settings:
        intake = desk_intake(settings)
        recorder = tracking_recorder(settings, Intake.name)
        projection = projection_of(intake, recorder, settings.personal_data_secret.encode())
        try:
            yield Tickets(intake, projection, StoreProjector(intake, projection, batch_size=7))
        finally:
            projection.view.datastore.close()
            intake.close()


class TestOnPostgres(TicketQueries):
    def test_the_view_tracks_its_position_next_to_intakes_events(self, tickets: Tickets) -> None:
        tickets.open()
        tickets.projector.catch_up()
        assert tickets.projection.view.tracking_table == "intake_tracking"
        assert tickets.projection.position() == tickets.intake.recorder.max_notification_id()
