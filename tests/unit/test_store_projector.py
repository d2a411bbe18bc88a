"""A projector that applies some topics of a busy store (the people index, among every ticket's events) reads the
log once: its view's position is the last of its events, far behind the store's head, and each step used to read
every event from there to the head again."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from services.chassis.runtime.settings import Settings
from services.chassis.storage.projector import StoreProjector
from services.intake.people.finder import People
from services.intake.people.index import TOPICS
from services.intake.tickets.application import Intake
from services.intake.tickets.form import TicketForm
from tests.notification_desk import AGENT
from tests.privacy import desk_intake


class Applied:
    """A view that keeps the positions it applied (in memory: the projector's reading is what is tested)."""

    name = "applied"

    def __init__(self) -> None:
        self.positions: list[int] = []

    def position(self) -> int:
        return self.positions[-1] if self.positions else 0

    def apply(self, events: Sequence[tuple[Any, int]], tracking: Sequence[Tracking]) -> None:
        self.positions += [position for _, position in events]


def open_tickets(intake: Intake, requester: str, n: int) -> None:
    for _ in range(n):
        form = TicketForm("VPN", "drops", requester, "api", "network", "incident", "P3")
        intake.open_ticket(uuid.uuid4(), form, AGENT)


def test_a_view_of_rare_events_reads_the_log_once_and_not_again_at_every_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = desk_intake(Settings(persistence="sqlite", data_dir=tmp_path))
    people = People(intake, intake.personal)
    jane = people.requester_for("acme", "email", "jane@example.com", "Jane", "en")
    open_tickets(intake, jane, 5)
    starts: list[int] = []
    select = intake.recorder.select_notifications

    def reading(start: int, *args: Any, **kwargs: Any) -> Any:
        starts.append(start)
        return select(start, *args, **kwargs)

    monkeypatch.setattr(intake.recorder, "select_notifications", reading)
    view = Applied()
    projector = StoreProjector(intake, view, batch_size=100, topics=TOPICS)

    projector.step()  # jane's own events
    applied = list(view.positions)
    head = intake.recorder.max_notification_id() or 0
    projector.step()
    projector.step()

    assert applied, "jane's registration"
    assert applied[-1] < head, "the tickets' events came after the last of jane's"
    assert starts[1:] == [head + 1, head + 1], "after the first read, the next start at the head it read to"
    open_tickets(intake, jane, 2)
    people.requester_for("acme", "email", "bob@example.com", "Bob", "en")
    projector.step()
    later = view.positions[len(applied) :]
    assert later, "bob's registration, after the head the last read reached"
    assert all(position > head for position in later)


def test_a_view_dropped_for_a_rebuild_is_read_again_from_its_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = desk_intake(Settings(persistence="sqlite", data_dir=tmp_path))
    people = People(intake, intake.personal)
    open_tickets(intake, people.requester_for("acme", "email", "jane@example.com", "Jane", "en"), 3)
    view = Applied()
    projector = StoreProjector(intake, view, batch_size=100, topics=TOPICS)
    projector.catch_up()
    applied = list(view.positions)

    view.positions.clear()  # dropped, as a rebuild does
    monkeypatch.setattr("services.chassis.storage.projector.TRUSTED_SECONDS", 0.0)
    projector.step()

    assert view.positions == applied
