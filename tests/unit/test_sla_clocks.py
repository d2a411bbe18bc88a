"""SLA clocks in memory: tickets' events arrive at given instants; the scheduler's `fire` at others."""

from __future__ import annotations

import copy
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope
from schemas.registry import parse_data
from services.sla.application import Sla
from services.sla.clock import Clock
from services.sla.publication import publication
from services.sla.reactions import reactions

TENANT = "acme"
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
BERLIN_HOURS = {"time_zone": "Europe/Berlin", "weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed",
                                                                                          "thu", "fri")}}  # fmt: skip


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


class Desk:
    def __init__(self) -> None:
        self.sla = Sla(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.apply = reactions(self.sla)
        self.positions = itertools.count(1)
        self.publish = publication(self.sla)
        self.ticket = str(uuid.uuid4())

    def event(self, kind: str, at: datetime, version: int = 1, actor: str = "agent-7", **data: Any) -> None:
        envelope = Envelope(
            id=uuid.uuid4(), type=kind, version=version, source="intake", subject=self.ticket, tenant=TENANT,
            actor=actor, occurred_at=at, sequence=1, position=next(self.positions), correlation_id="c",
            causation_id="c", data={"ticket_id": self.ticket} | data,
        )  # fmt: skip
        self.apply(envelope, parse_data(envelope), Tracking("intake", envelope.position))

    def open(self, at: datetime = MONDAY_9, priority: str = "P3", **more: Any) -> None:
        self.event("ticket.opened", at, version=2, number="SD-1", requester_id="customer-1", channel="email",
                   category="network", type="incident", priority=priority, **more)  # fmt: skip

    def reply(self, at: datetime, by: str = "agent-7", kind: str = "staff") -> None:
        """A public comment by `by`, who intake said is `kind` (staff, requester, other)."""
        self.event("ticket.commented", at, version=2, comment_id=str(uuid.uuid4()), public=True, author_id=by,
                   channel="email", author_kind=kind)  # fmt: skip

    def customer_writes(self, at: datetime) -> None:
        self.reply(at, by="customer-1", kind="requester")

    def reply_published_as_v1(self, at: datetime, by: str) -> None:
        """A public comment published before intake said who wrote it."""
        self.event("ticket.commented", at, comment_id=str(uuid.uuid4()), public=True, author_id=by, channel="email")

    def status(self, at: datetime, status: str, change: str, **more: Any) -> None:
        self.event("ticket.status_changed", at, status=status, change=change, **more)

    def fire(self, at: datetime) -> None:
        self.sla.fire([uuid.UUID(self.ticket)], at)

    def published(self) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for notification in self.sla.recorder.select_notifications(1, 10_000):
            if (record := self.publish(notification)) is not None:
                found.append((record[1].type, record[1].data | {"at": record[1].occurred_at}))
        return found

    def of(self, kind: str, metric: str | None = None) -> list[dict[str, Any]]:
        return [d for t, d in self.published() if t == kind and (metric is None or d.get("metric") == metric)]


@pytest.fixture
def desk() -> Desk:
    desk = Desk()
    desk.sla.define_calendar(TENANT, "berlin", BERLIN_HOURS)
    desk.sla.define_policy(TENANT, {"policy_id": "p1", "match": {"priorities": ["P1"]}, "calendar": "24x7",
                                    "targets": {"first_response": 1800, "resolution": 4 * 3600},
                                    "warn_at": [75, 90]})  # fmt: skip
    desk.sla.define_policy(TENANT, {"policy_id": "standard", "match": {}, "calendar": "berlin",
                                    "targets": {"first_response": 4 * 3600, "next_response": 8 * 3600,
                                                "resolution": 16 * 3600},
                                    "warn_at": [75], "reminders": {"every_seconds": 86400, "count": 2}})  # fmt: skip
    return desk


def test_a_ticket_opened_on_monday_morning_is_due_by_business_hours(desk: Desk) -> None:
    desk.open()
    started = {d["metric"]: d for d in desk.of("sla.started")}
    assert started["first_response"]["due_at"] == "2026-11-23T13:00:00+00:00"  # 10:00 + 4h Berlin
    # 16 business hours: 7 on Monday (10-17), 8 on Tuesday, the last from Wednesday 09:00 Berlin (08:00 UTC)
    assert started["resolution"]["due_at"] == "2026-11-25T09:00:00+00:00"
    assert started["first_response"]["policy_id"] == "standard"


def test_the_warning_and_the_breach_fire_at_their_instants_not_when_the_scheduler_looks(desk: Desk) -> None:
    desk.open()
    desk.fire(MONDAY_9 + hours(6))  # the scheduler was late: both are recorded at their own instants
    warning = desk.of("sla.warning", "first_response")
    breach = desk.of("sla.breached", "first_response")
    assert [w["at"] for w in warning] == [MONDAY_9 + hours(3)]
    assert [b["at"] for b in breach] == [MONDAY_9 + hours(4)]
    desk.fire(MONDAY_9 + hours(7))
    assert len(desk.of("sla.breached", "first_response")) == 1, "fired once"


def test_the_first_public_agent_reply_meets_the_first_response(desk: Desk) -> None:
    desk.open()
    desk.customer_writes(MONDAY_9 + hours(1))  # the customer adding detail answers nothing
    assert desk.of("sla.met") == []
    desk.reply(MONDAY_9 + hours(2))
    met = desk.of("sla.met", "first_response")
    assert met[0]["business_seconds_used"] == 7200
    assert met[0]["breached"] is False


def test_a_colleague_of_the_requester_or_an_outsider_answers_no_response_target(desk: Desk) -> None:
    desk.open()
    desk.reply(MONDAY_9 + hours(1), by="colleague-of-customer-1", kind="other")
    assert desk.of("sla.met") == []
    desk.reply(MONDAY_9 + hours(2))
    desk.customer_writes(MONDAY_9 + hours(3))
    desk.reply(MONDAY_9 + hours(4), by="outsider", kind="other")
    assert desk.of("sla.met", "next_response") == [], "the desk still owes the requester an answer"
    assert len(desk.of("sla.met", "first_response")) == 1


def test_a_comment_published_before_intake_said_who_wrote_meets_nothing_unless_staff_reply(desk: Desk) -> None:
    """v1 did not say who wrote: the requester is known by id; anyone else is not taken for staff."""
    desk.open()
    desk.reply_published_as_v1(MONDAY_9 + hours(1), by="agent-7")
    assert desk.of("sla.met") == []
    desk.reply(MONDAY_9 + hours(2))
    desk.reply_published_as_v1(MONDAY_9 + hours(3), by="customer-1")
    assert desk.of("sla.started", "next_response"), "the requester's comment still starts a next response"


def test_pending_until_a_past_instant_pauses_nothing(desk: Desk) -> None:
    desk.open()
    desk.status(MONDAY_9 + hours(1), "pending", "marked_pending", waiting_for="customer",
                pending_until=datetime(2020, 1, 1, tzinfo=UTC).isoformat())  # fmt: skip
    assert desk.of("sla.paused") == []
    desk.fire(MONDAY_9 + hours(2))
    assert desk.of("sla.breached") == []
    assert desk.of("sla.customer_reminded") == []
    clock = desk.sla.clock(TENANT, uuid.UUID(desk.ticket))
    assert clock.due_at == MONDAY_9 + hours(3), "the first response's warning, 3 of its 4 business hours"
    desk.reply(MONDAY_9 + hours(2))
    assert desk.of("sla.met", "first_response")[0]["business_seconds_used"] == 7200


def test_a_customer_message_after_the_first_response_starts_a_next_response_target(desk: Desk) -> None:
    desk.open()
    desk.reply(MONDAY_9 + hours(1))
    desk.customer_writes(MONDAY_9 + hours(2))
    started = desk.of("sla.started", "next_response")
    assert started[0]["due_at"] == "2026-11-24T11:00:00+00:00"  # 11:00 Berlin Monday + 8h business
    desk.reply(MONDAY_9 + hours(3))
    assert len(desk.of("sla.met", "next_response")) == 1


def test_pending_on_the_customer_pauses_across_the_night_and_resumes_on_their_answer(desk: Desk) -> None:
    desk.open()
    desk.reply(MONDAY_9 + hours(1))
    desk.status(MONDAY_9 + hours(2), "pending", "marked_pending", waiting_for="customer",
                pending_until=(MONDAY_9 + hours(72)).isoformat())  # fmt: skip
    assert desk.of("sla.paused", "resolution")[0]["business_seconds_used"] == 7200
    desk.customer_writes(MONDAY_9 + hours(24))  # Tuesday 10:00 Berlin
    resumed = desk.of("sla.resumed", "resolution")[0]
    assert resumed["due_at"] == "2026-11-25T15:00:00+00:00"  # 14h left from Tuesday 10:00 Berlin: 7 + 7, Wed 16:00


def test_an_unanswered_pending_ticket_reminds_the_customer_then_is_resolved(desk: Desk) -> None:
    desk.open()
    until = MONDAY_9 + hours(5)
    desk.status(
        MONDAY_9 + hours(1), "pending", "marked_pending", waiting_for="customer", pending_until=until.isoformat()
    )
    desk.fire(until)
    assert [r["reminder"] for r in desk.of("sla.customer_reminded")] == [1]
    assert desk.of("sla.resumed", "resolution"), "the pending time ended"
    desk.fire(until + hours(48))
    assert [r["reminder"] for r in desk.of("sla.customer_reminded")] == [1, 2]
    unresponsive = desk.of("sla.customer_unresponsive")
    assert unresponsive[0]["reason"] == "no answer from the customer after 2 reminders"
    assert unresponsive[0]["at"] == until + hours(48)


def test_resolving_meets_the_resolution_and_reopening_counts_on(desk: Desk) -> None:
    desk.open()
    desk.status(MONDAY_9 + hours(2), "resolved", "resolved")
    assert desk.of("sla.met", "resolution")[0]["business_seconds_used"] == 7200
    desk.status(MONDAY_9 + hours(3), "open", "reopened")
    resumed = desk.of("sla.resumed", "resolution")[-1]
    assert resumed["business_seconds_used"] == 7200


def test_raising_the_priority_retargets_from_the_tickets_start(desk: Desk) -> None:
    desk.open()
    desk.event("ticket.priority_changed", MONDAY_9 + hours(1), priority="P1", previous="P3")
    retargeted = desk.of("sla.started", "first_response")[-1]
    assert (retargeted["policy_id"], retargeted["target_seconds"]) == ("p1", 1800)
    assert retargeted["business_seconds_used"] == 3600
    desk.fire(MONDAY_9 + hours(1))
    breach = desk.of("sla.breached", "first_response")
    assert breach[0]["at"] == MONDAY_9 + hours(1)  # over target already: breached at once


def test_a_ticket_imported_with_its_history_opens_no_clock_and_nothing_breaches(desk: Desk) -> None:
    origin = {"system": "rt", "url": "https://rt.example", "id": "123"}
    desk.event("ticket.opened", MONDAY_9, version=5, number="SD-2019-1", requester_id="customer-1", channel="email",
               category="network", type="incident", priority="P1", imported_from=origin)  # fmt: skip
    desk.reply(MONDAY_9 + hours(30))
    desk.status(MONDAY_9 + hours(40), "resolved", "resolved")
    desk.fire(MONDAY_9 + hours(50))
    assert desk.published() == []


def test_a_ticket_no_policy_covers_has_no_clock() -> None:
    desk = Desk()
    desk.open()
    assert desk.published() == []


def test_a_clocks_events_never_published_are_passed_by_undecoded(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    desk.open()
    desk.fire(MONDAY_9 + hours(3))  # the first response's warning, at 75 %
    decoded: list[str] = []
    decode = desk.sla.mapper.to_domain_event

    def counted(notification: Any) -> Any:
        decoded.append(notification.topic)
        return decode(notification)

    monkeypatch.setattr(desk.sla.mapper, "to_domain_event", counted)
    assert [kind for kind, _ in desk.published()] == ["sla.started", "sla.started", "sla.warning"]
    assert "services.sla.clock:Clock.Started" not in decoded
    assert "services.sla.clock:Clock.Scheduled" not in decoded  # its next due instant, after each start and firing
    assert "services.sla.clock:Clock.Warned" in decoded


def test_the_clocks_of_one_policy_hold_one_copy_of_it_however_often_they_are_read(desk: Desk) -> None:
    desk.open()
    first: Clock = desk.sla.repository.get(uuid.UUID(desk.ticket))
    desk.ticket = str(uuid.uuid4())
    desk.open()
    second: Clock = desk.sla.repository.get(uuid.UUID(desk.ticket))
    assert first.policy == second.policy
    assert first.policy is second.policy, "each clock rebuilt from its events holds the same policy object"
    assert copy.deepcopy(second).policy is second.policy, "a copy out of the aggregate cache keeps it shared"
