"""Filling the notifications outbox on a real SQLite store: one row per notable ticket event,
nothing twice on a replay, SLA's reminders once each, and a mailer turned on late tells only
what happens from then on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from schemas.envelope import Envelope
from schemas.registry import parse_data
from services.chassis.projector import StoreProjector
from services.chassis.settings import Settings
from services.chassis.store import store_env, tracking_recorder
from services.intake.application import Intake, TicketForm
from services.intake.domain import Cause
from services.intake.notifications.outbox import NotificationOutbox

AGENT = Cause("acme", "agent-7", "c", "c")


def desk(tmp_path: Path) -> tuple[Intake, Settings]:
    settings = Settings(persistence="sqlite", data_dir=tmp_path)
    return Intake(env=store_env(settings, Intake.name)), settings


def outbox_of(intake: Intake, settings: Settings, start: int = 0) -> NotificationOutbox:
    def requester_of(ticket_id: uuid.UUID) -> str | None:
        return intake.get_ticket(ticket_id, "acme").requester_id

    return NotificationOutbox(tracking_recorder(settings, Intake.name), requester_of, store_position=start)


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
    intake.change(ticket_id, AGENT, lambda t: t.add_comment("c1", "Try again", True, "agent-7", "api"))
    intake.change(
        ticket_id, Cause("acme", "jane", "c", "c"), lambda t: t.add_comment("c2", "no", True, "jane", "email")
    )
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
