"""The notifications outbox on a real SQLite store: one row per notable ticket event, nothing
twice on a replay, SLA's reminders once each, a mailer turned on late tells only what happens
from then on; a claim left by a dead sender is sent again, and with no relay mail is held."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from schemas.envelope import Envelope
from schemas.registry import parse_data
from services.chassis.runtime.settings import Settings
from services.chassis.storage.projector import StoreProjector
from services.intake.notifications.deliveries import Deliveries
from services.intake.notifications.mail_sender import MailSender
from services.intake.notifications.mailer import Mailer
from services.intake.notifications.outbox import NotificationOutbox
from services.intake.notifications.sender import Sender
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.form import TicketForm
from tests.notification_desk import AGENT, Recording, mailer_before_routing, mailer_with, outbox_of
from tests.privacy import desk_intake


def desk(tmp_path: Path) -> tuple[Intake, Settings]:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    return desk_intake(settings), settings


def open_ticket(intake: Intake) -> uuid.UUID:
    form = TicketForm("VPN", "drops", "jane", "email", "network", "incident", "P2")
    ticket_id = uuid.uuid4()
    intake.open_ticket(ticket_id, form, AGENT)
    return ticket_id


def kinds(outbox: NotificationOutbox) -> list[str]:
    rows = outbox.view.query("SELECT kind FROM intake_notifications ORDER BY created_at")
    return [row["kind"] for row in rows]


def test_a_replayed_batch_fills_nothing_twice(tmp_path: Path) -> None:
    intake, settings = desk(tmp_path)
    outbox = outbox_of(intake, settings)
    ticket_id = open_ticket(intake)
    intake.comment(ticket_id, AGENT, "c1", "Try again", True, "api", staff=False)
    intake.comment(ticket_id, Cause("acme", "jane", "c", "c"), "c2", "no", True, "email", staff=False)
    StoreProjector(intake, outbox).catch_up()
    assert kinds(outbox) == ["acknowledgement", "reply"], "the requester's own comment notifies nobody"
    notifications = intake.recorder.select_notifications(1, 100)
    events: list[tuple[Any, int]] = [(intake.mapper.to_domain_event(n), n.id) for n in notifications]
    with pytest.raises(IntegrityError):
        outbox.apply(events, [Tracking(outbox.name, n.id) for n in notifications])
    assert kinds(outbox) == ["acknowledgement", "reply"]


def test_each_sla_reminder_is_one_notification_however_often_it_is_delivered(tmp_path: Path) -> None:
    intake, settings = desk(tmp_path)
    outbox = outbox_of(intake, settings)
    envelope = Envelope(
        id=uuid.uuid4(), type="sla.customer_reminded", version=1, source="sla", subject="t", tenant="acme",
        actor="sla", occurred_at=datetime.now(UTC), sequence=3, position=41, correlation_id="c", causation_id="c",
        data={"ticket_id": str(uuid.uuid4()), "policy_id": "std", "reminder": 1, "reminders_before_resolving": 3,
              "next_at": None},
    )  # fmt: skip
    outbox.remind(envelope, parse_data(envelope), Tracking("notifications:sla", 41))
    with pytest.raises(IntegrityError):
        outbox.remind(envelope, parse_data(envelope), Tracking("notifications:sla", 41))
    [row] = outbox.view.query("SELECT kind, message_key, details FROM intake_notifications")
    assert (row["kind"], row["message_key"]) == ("reminder", "r41")


def test_a_mailer_turned_on_late_tells_only_what_happens_from_then_on(tmp_path: Path) -> None:
    intake, settings = desk(tmp_path)
    open_ticket(intake)
    outbox = outbox_of(intake, settings, start=intake.recorder.max_notification_id() or 0)
    open_ticket(intake)
    StoreProjector(intake, outbox).catch_up()
    assert kinds(outbox) == ["acknowledgement"]


def mailer_on(tmp_path: Path, sender: Sender, claim_seconds: float = 60.0) -> tuple[Mailer, Deliveries, uuid.UUID]:
    settings = Settings(persistence="sqlite", data_dir=tmp_path, mailboxes={"s@acme.test": {"tenant": "acme"}})
    return mailer_with(settings, sender, claim_seconds)


def test_a_message_whose_sender_died_mid_send_goes_again_once_with_the_same_message_id(tmp_path: Path) -> None:
    sender = Recording()
    mailer, deliveries, ticket_id = mailer_on(tmp_path, sender, claim_seconds=0.3)
    [ack] = deliveries.due(time.time(), 10)
    assert deliveries.claim(ack), "a sender claimed it, then died before recording anything"
    asyncio.run(mailer.step())
    assert sender.sent == [], "a fresh claim is left to its sender"
    time.sleep(0.4)
    asyncio.run(mailer.step())
    asyncio.run(mailer.step())
    [message] = sender.sent
    assert message.message_id == f"<ticket-{ticket_id}-{ack['message_key']}@desk.localhost>"
    [record] = deliveries.log("acme", str(ticket_id))
    assert (record["status"], record["attempts"]) == ("sent", 2)


def test_with_no_smtp_relay_a_message_is_held_with_the_reason_and_nothing_crashes(tmp_path: Path) -> None:
    no_relay = MailSender(Settings(persistence="sqlite", data_dir=tmp_path, smtp_host=None,
                                   mailboxes={"s@acme.test": {"tenant": "acme"}}))  # fmt: skip
    mailer, deliveries, ticket_id = mailer_on(tmp_path, no_relay)
    asyncio.run(mailer.step())
    [record] = deliveries.log("acme", str(ticket_id))
    assert (record["status"], record["attempts"]) == ("held", 0)
    assert "no SMTP relay configured" in record["last_error"]


def test_a_ticket_the_api_opened_is_acknowledged_at_once_to_the_requesters_address(tmp_path: Path) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path, mailboxes={"s@acme.test": {"tenant": "acme"}})
    sender = Recording()
    mailer, _, _ = mailer_before_routing(settings, sender, channel="api", routed=False)
    assert mailer.route_waiting() == 1, "no channel records a route for it: nothing to wait for"
    asyncio.run(mailer.step())
    [ack] = sender.sent
    assert (ack.kind, ack.route.address, ack.route.reply_to) == ("acknowledgement", "jane@example.com", None)


def test_a_ticket_the_mail_channel_opened_waits_a_moment_for_the_message_to_answer(tmp_path: Path) -> None:
    settings = Settings(persistence="sqlite", data_dir=tmp_path, mailboxes={"s@acme.test": {"tenant": "acme"}})
    mailer, deliveries, ticket_id = mailer_before_routing(settings, Recording(), channel="email", routed=False)
    assert mailer.route_waiting() == 0, "the channel records its route just after the ticket opens"
    assert [n["checks"] for n in deliveries.waiting_log("acme", str(ticket_id))] == [1]


def sla_event(position: int, kind: str, data: dict[str, Any]) -> Envelope:
    return Envelope(
        id=uuid.uuid4(), type=kind, version=1, source="sla", subject="t", tenant="acme", actor="sla",
        occurred_at=datetime.now(UTC), sequence=position, position=position, correlation_id="c", causation_id="c",
        data=data,
    )  # fmt: skip


def test_a_batch_of_clock_events_is_tracked_whole_and_its_one_reminder_becomes_a_notification(
    tmp_path: Path,
) -> None:
    intake, settings = desk(tmp_path)
    outbox = outbox_of(intake, settings)
    ticket_id = str(uuid.uuid4())
    clock = {"ticket_id": ticket_id, "policy_id": "std", "metric": "first_response", "target_seconds": 60,
             "due_at": "2026-12-07T10:00:00+00:00", "business_seconds_used": 0}  # fmt: skip
    reminder = {"ticket_id": ticket_id, "policy_id": "std", "reminder": 1, "reminders_before_resolving": 3,
                "next_at": None}  # fmt: skip
    batch = [sla_event(50, "sla.started", clock), sla_event(51, "sla.customer_reminded", reminder),
             sla_event(52, "sla.paused", clock)]  # fmt: skip
    deliveries = [(e, parse_data(e), Tracking("notifications:sla", e.position)) for e in batch]

    outbox.remind_many(deliveries)

    [row] = outbox.view.query("SELECT kind, message_key FROM intake_notifications")
    assert (row["kind"], row["message_key"]) == ("reminder", "r51")
    assert outbox.view.skipped([tracking for _, _, tracking in deliveries]) == {0, 1, 2}, "every event tracked"
