"""The internal feed serves the publisher's fields unvalidated: they must read back as the very
envelopes the relay validates and publishes."""

from __future__ import annotations

import json
from uuid import NAMESPACE_URL, uuid4, uuid5

import pytest

from services.chassis.feed import EventPage, _Feed
from services.chassis.ids import url_uuid5
from services.intake.application import Intake
from services.intake.domain import Cause, Ticket, acting
from services.intake.publication import public_fields, publication
from tests.privacy import memory_intake


@pytest.mark.parametrize("name", ["", "/servicedesk/intake/x/1", "ünïcode/é", "a" * 500])
def test_a_stable_id_is_the_uuid5_of_its_name(name: str) -> None:
    assert url_uuid5(name) == str(uuid5(NAMESPACE_URL, name))


def a_desk_with_tickets(tickets: int = 3) -> Intake:
    intake = memory_intake()
    with acting(Cause("acme", "agent-7", "corr-1", "cause-1")):
        for n in range(tickets):
            ticket = Ticket.open(uuid4(), f"SD-2026-{n:06d}", "Printer jams", "Tray 2, see www.example.com", "c-1",
                                 "email", "hardware", "incident", "P3", ["printer"], {})  # fmt: skip
            ticket.start_work("picked up")
            ticket.resolve("replaced the roller", "fixed")
            intake.save(ticket)
    return intake


def test_the_internal_page_reads_back_as_the_envelopes_the_relay_publishes() -> None:
    intake = a_desk_with_tickets()
    feed = _Feed(intake, public_fields(intake))
    page = EventPage.model_validate_json(feed.page_json(0, 100))
    publish = publication(intake)
    relayed = [r[1] for n in intake.recorder.select_notifications(1, 100) if (r := publish(n)) is not None]
    assert page.events == relayed
    assert len(relayed) == 12
    assert page.next_after == intake.recorder.max_notification_id()


def test_the_internal_page_is_the_json_the_validated_page_would_be() -> None:
    intake = a_desk_with_tickets()
    feed = _Feed(intake, public_fields(intake))
    assert json.loads(feed.page_json(0, 100)) == json.loads(feed.page(0, 100, None, set()).model_dump_json())
