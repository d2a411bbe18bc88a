"""A read model that applies only some topics of its store (the people list) is caught up when it holds
every event of those topics written before the read, whatever else the store took since."""

from __future__ import annotations

import asyncio
import threading
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from services.chassis.storage.catching_up import ViewBehind, view_holds_its_topics


class Person(Aggregate):
    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name


class Ticket(Aggregate):
    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title


PEOPLE = [get_topic(Person.Registered)]  # type: ignore[attr-defined]


def store_with(*aggregates: Aggregate) -> tuple[Application[UUID], list[int]]:
    app: Application[UUID] = Application()
    positions = [recording.notification.id for a in aggregates for recording in app.save(a)]
    return app, positions


def test_a_list_waits_for_the_person_written_before_and_not_for_the_tickets_after() -> None:
    app, (person_at, *_tickets) = store_with(Person("Lev"), Ticket("Printer"), Ticket("VPN"))
    applied = {"position": 0}

    def apply_later() -> None:
        applied["position"] = person_at

    threading.Timer(0.2, apply_later).start()
    asyncio.run(view_holds_its_topics(lambda: applied["position"], app, PEOPLE, 5.0, "the people list"))
    assert applied["position"] == person_at  # it returned once the person was applied, not before


def test_a_list_holding_every_person_answers_at_once_though_the_store_went_on() -> None:
    app, (person_at, *_tickets) = store_with(Person("Lev"), Ticket("Printer"))
    asyncio.run(view_holds_its_topics(lambda: person_at, app, PEOPLE, 0.0, "the people list"))


def test_a_list_that_does_not_catch_up_is_answered_503() -> None:
    app, _ = store_with(Person("Lev"))
    with pytest.raises(ViewBehind):
        asyncio.run(view_holds_its_topics(lambda: 0, app, PEOPLE, 0.1, "the people list"))
