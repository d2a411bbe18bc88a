"""The internal feed serves the publisher's fields unvalidated: they must read back as the very
envelopes the relay validates and publishes."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import NAMESPACE_URL, uuid4, uuid5

import pytest
from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope
from services.chassis.http.feed import EventPage, Feed
from services.chassis.messaging.published import RELAY_NAME, PublishedLog
from services.chassis.storage.ids import url_uuid5
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.domain import Ticket
from services.intake.tickets.publication import public_fields, publication
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
    feed = Feed(intake, public_fields(intake))
    page = EventPage.model_validate_json(feed.page_json(0, 100))
    publish = publication(intake)
    relayed = [r[1] for n in intake.recorder.select_notifications(1, 100) if (r := publish(n)) is not None]
    assert page.events == relayed
    assert len(relayed) == 12
    assert page.next_after == intake.recorder.max_notification_id()


def test_the_internal_page_is_the_json_the_validated_page_would_be() -> None:
    intake = a_desk_with_tickets()
    feed = Feed(intake, public_fields(intake))
    assert json.loads(feed.page_json(0, 100)) == json.loads(feed.page(0, 100, None, set()).model_dump_json())


def a_relayed_desk(tmp_path: Path, relayed_before_the_log: int, relayed_with_the_log: int) -> Intake:
    """Intake on SQLite, relayed partly (see `relay_partly`)."""
    intake = memory_intake({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "i.db")})
    return relay_partly(intake, relayed_before_the_log, relayed_with_the_log)


def relay_partly(intake: Intake, relayed_before_the_log: int, relayed_with_the_log: int, tickets: int = 4) -> Intake:
    """Tickets of two tenants in `intake`'s store (4 public events each): the first positions relayed
    before the published log began, the next ones relayed with it (their envelopes carrying the
    producer span's traceparent, as Kafka got them), the rest not yet."""
    for n in range(tickets):
        with acting(Cause(("acme", "globex")[n % 2], "agent-7", "corr-1", "cause-1")):
            ticket = Ticket.open(uuid4(), f"SD-2026-{n:06d}", "Printer jams", "Tray 2", "c-1", "email", "hardware",
                                 "incident", "P3", [], {})  # fmt: skip
            ticket.start_work("picked up")
            ticket.resolve("replaced the roller", "fixed")
            intake.save(ticket)
    log = PublishedLog(intake.factory.tracking_recorder(), intake.name)
    log.begin(relayed_before_the_log)
    publish = publication(intake)
    upto = relayed_before_the_log + relayed_with_the_log
    sent = [r[1].model_copy(update={"traceparent": KAFKA_SPAN}) for n in intake.recorder.select_notifications(
        relayed_before_the_log + 1, relayed_with_the_log, stop=upto) if (r := publish(n)) is not None]  # fmt: skip
    log.record(Tracking(RELAY_NAME, upto), sent)
    return intake


KAFKA_SPAN = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def transcoded(intake: Intake) -> list[Envelope]:
    publish = publication(intake)
    return [r[1] for n in intake.recorder.select_notifications(1, 1000) if (r := publish(n)) is not None]


@pytest.mark.parametrize("limit", [1, 3, 5, 100])
def test_a_relayed_store_pages_from_the_published_log_and_transcodes_before_and_after_it(
    tmp_path: Path, limit: int
) -> None:
    intake = a_relayed_desk(tmp_path, relayed_before_the_log=3, relayed_with_the_log=6)
    feed = Feed(intake, public_fields(intake))
    read: list[Envelope] = []
    after = 0
    while (page := EventPage.model_validate_json(feed.page_json(after, limit))).next_after != after:
        assert len(page.events) <= limit
        read += page.events
        after = page.next_after
    expected = [e.model_copy(update={"traceparent": KAFKA_SPAN}) if 3 < e.position <= 9 else e
                for e in transcoded(intake)]  # fmt: skip
    assert read == expected, "positions 4-9 as Kafka got them, the rest as transcoded"
    assert after == intake.recorder.max_notification_id()


def test_the_tenants_feed_filters_the_published_log_as_it_filters_the_store(tmp_path: Path) -> None:
    intake = a_relayed_desk(tmp_path, relayed_before_the_log=2, relayed_with_the_log=9)
    feed = Feed(intake, public_fields(intake))
    page = feed.page(0, 100, "globex", {"ticket.status_changed"})
    wanted = [e for e in transcoded(intake) if e.tenant == "globex" and e.type == "ticket.status_changed"]
    assert [e.id for e in page.events] == [e.id for e in wanted]
    assert len(wanted) == 4


def read_all(feed: Feed, limit: int = 5) -> list[Envelope]:
    read: list[Envelope] = []
    after = 0
    while (page := EventPage.model_validate_json(feed.page_json(after, limit))).next_after != after:
        read += page.events
        after = page.next_after
    return read


def test_a_relay_that_restarts_keeps_serving_from_where_the_log_began(tmp_path: Path) -> None:
    intake = a_relayed_desk(tmp_path, relayed_before_the_log=3, relayed_with_the_log=6)
    log = PublishedLog(intake.factory.tracking_recorder(), intake.name)
    log.begin(9)  # SIGKILLed after recording position 9, and leading again
    assert log.coverage().began_after == 3


def test_what_a_relay_from_before_the_log_published_during_an_upgrade_is_transcoded_not_skipped(
    tmp_path: Path,
) -> None:
    an_upgrade_finds_the_feed_whole(a_relayed_desk(tmp_path, relayed_before_the_log=3, relayed_with_the_log=6))


def an_upgrade_finds_the_feed_whole(intake: Intake) -> None:
    """`intake` relayed up to 9, the log begun after 3: an old relay then publishes 10-12."""
    recorder = intake.factory.tracking_recorder()
    recorder.insert_tracking(Tracking(RELAY_NAME, 12))  # an old relay led a while: 10-12 went to Kafka, not the log
    log = PublishedLog(recorder, intake.name)
    log.begin(12)  # the new relay leads again
    assert log.coverage().began_after == 12
    read = read_all(Feed(intake, public_fields(intake)))
    assert [e.position for e in read] == list(range(1, 17)), "positions 10-12 are in the feed"
    assert read == transcoded(intake)
