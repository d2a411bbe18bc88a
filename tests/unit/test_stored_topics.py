"""Stores written before intake was split into folders still load: their events name the old modules."""

from __future__ import annotations

import importlib
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import clear_topic_cache, resolve_topic

from services.intake import stored_topics
from services.intake.gateway.api_keys import ApiKeys
from services.intake.people.conversations import Thread
from services.intake.people.erasure import ErasureRegister
from services.intake.people.people import Person
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.domain import Ticket
from services.intake.tickets.form import TicketForm
from tests.privacy import memory_intake


def _as_before_the_split(stored: StoredEvent) -> StoredEvent:
    module, _, name = stored.topic.partition(":")
    old = next(old for old, new in stored_topics.MOVED.items() if new == module)
    return StoredEvent(stored.originator_id, stored.originator_version, f"{old}:{name}", stored.state)


def test_a_ticket_stored_under_the_old_module_topics_still_loads() -> None:
    stored_topics.register()
    written = memory_intake()
    ticket_id = uuid4()
    form = TicketForm("Printer jam", "", "c-1", "email", "hardware", "incident", "P3")
    written.open_ticket(ticket_id, form, Cause("acme", "agent-7", "corr", "cause"))
    old_events = [_as_before_the_split(e) for e in written.recorder.select_events(ticket_id)]
    assert old_events[0].topic == "services.intake.domain:Ticket.Opened"

    reading: Intake = memory_intake()
    reading.recorder.insert_events(old_events)
    ticket: Ticket = reading.repository.get(ticket_id)

    assert isinstance(ticket, Ticket)
    assert ticket.number == written.get_ticket(ticket_id, "acme").number


def test_every_stored_class_resolves_from_its_old_topic() -> None:
    stored_topics.register()
    assert resolve_topic("services.intake.domain:Ticket.Opened") is Ticket.Opened
    assert resolve_topic("services.intake.api_keys:ApiKeys") is ApiKeys
    started = resolve_topic("services.intake.erasure:ErasureRegister.Started")
    assert started.__qualname__ == "ErasureRegister.Started"
    assert started.__module__ == "services.intake.people.erasure"
    assert resolve_topic("services.intake.people:Person") is Person
    assert resolve_topic("services.intake.people.conversations:Thread") is Thread


def test_the_new_topics_still_resolve_once_the_old_ones_are_registered() -> None:
    clear_topic_cache()  # as in a fresh process: nothing resolved yet
    stored_topics.register()
    for new in stored_topics.MOVED.values():
        module = importlib.import_module(new)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == new:
                assert resolve_topic(f"{new}:{value.__qualname__}") is value


def test_a_query_by_topic_asks_for_the_old_topic_too() -> None:
    assert stored_topics.topics_of(ErasureRegister, "Started") == [
        "services.intake.people.erasure:ErasureRegister.Started",
        "services.intake.erasure:ErasureRegister.Started",
    ]
