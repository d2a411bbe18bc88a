"""SLA's what-if in memory: a month of tickets through the live SLA code (reactions, the scheduler's
`fire`), then the same history replayed under the setup as it was and under a candidate; and a clock
paused after a warning fell due records it at its instant, however late the scheduler."""

from __future__ import annotations

import io
import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from pydantic import ValidationError
from rich.console import Console

from schemas.envelope import Envelope
from schemas.registry import TypedEnvelope, parse_data, typed
from services.chassis.domain.calendar import BusinessCalendar
from services.chassis.whatif.history import in_order
from services.sla.application import Sla
from services.sla.policies import SlaSetupError
from services.sla.publication import publication
from services.sla.reactions import reactions
from services.sla.what_if import replayed
from services.sla.what_if.candidate import Candidate
from services.sla.what_if.cli import table
from services.sla.what_if.setups import SetupHistory

TENANT = "acme"
START = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
BERLIN_HOURS = {"time_zone": "Europe/Berlin", "weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed",
                                                                                          "thu", "fri")}}  # fmt: skip
STANDARD: dict[str, Any] = {"policy_id": "standard", "match": {}, "calendar": "berlin",
                            "targets": {"first_response": 4 * 3600, "next_response": 8 * 3600,
                                        "resolution": 16 * 3600}, "warn_at": [75]}  # fmt: skip
URGENT: dict[str, Any] = {"policy_id": "urgent", "match": {"priorities": ["P1"]}, "calendar": "24x7",
                          "targets": {"first_response": 1800, "resolution": 4 * 3600}, "warn_at": [50, 90]}  # fmt: skip


class Month:
    """A live SLA in memory, fed a month of tickets; what intake and SLA published, as a replay reads it."""

    def __init__(self) -> None:
        self.sla = Sla(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.sla.define_calendar(TENANT, "berlin", BERLIN_HOURS)
        self.sla.define_policy(TENANT, URGENT)
        self.sla.define_policy(TENANT, STANDARD)
        self.apply = reactions(self.sla)
        self.positions = itertools.count(1)
        self.published: list[TypedEnvelope] = []
        self.answered: dict[str, tuple[str, datetime, datetime]] = {}  # number -> (priority, opened, answered)

    def event(self, ticket: str, kind: str, at: datetime, version: int = 1, **data: Any) -> None:
        envelope = Envelope(
            id=uuid.uuid4(), type=kind, version=version, source="intake", subject=ticket, tenant=TENANT,
            actor="agent-7", occurred_at=at, sequence=1, position=next(self.positions), correlation_id="c",
            causation_id="c", data={"ticket_id": ticket} | data,
        )  # fmt: skip
        self.apply(envelope, parse_data(envelope), Tracking("intake", envelope.position))
        self.published.append(typed(envelope.model_dump(mode="json")))

    def seed(self, tickets: int) -> None:
        rng = random.Random(5)
        for n in range(tickets):
            ticket, opened = str(uuid.uuid4()), START + timedelta(hours=rng.uniform(0, 28 * 24))
            priority = "P1" if n % 5 == 0 else "P3"
            self.event(ticket, "ticket.opened", opened, version=2, number=f"SD-{n + 1}", requester_id="customer-1",
                       channel="email", category="network", type="incident", priority=priority)  # fmt: skip
            answered = opened + timedelta(hours=rng.choice([0.2, 0.5, 1, 2, 3.5, 6, 30]))
            self.answered[f"SD-{n + 1}"] = (priority, opened, answered)
            self.event(ticket, "ticket.commented", answered, version=2, comment_id=str(uuid.uuid4()), public=True,
                       author_id="agent-7", channel="email", author_kind="staff")  # fmt: skip
            if n % 5 == 1:  # waits on the customer a day (their answer, or the end of it, resumes the clock)
                self.event(ticket, "ticket.status_changed", answered + timedelta(minutes=30), status="pending",
                           change="marked_pending", waiting_for="customer",
                           pending_until=(answered + timedelta(days=1)).isoformat())  # fmt: skip
            if n % 3 == 0:
                self.event(ticket, "ticket.commented", answered + timedelta(hours=1), version=2,
                           comment_id=str(uuid.uuid4()), public=True, author_id="customer-1", channel="email",
                           author_kind="requester")  # fmt: skip
            if n % 7 == 0:
                self.event(ticket, "ticket.priority_changed", answered + timedelta(hours=2), priority="P1",
                           previous=priority)  # fmt: skip
            if n % 2 == 0:
                self.event(ticket, "ticket.status_changed", answered + timedelta(hours=rng.choice([3, 40])),
                           status="resolved", change="resolved")  # fmt: skip

    def scheduler_catches_up(self, now: datetime) -> None:
        clocks = {uuid.UUID(e.subject) for e in self.published}
        while self.sla.fire(sorted(clocks), now):  # as the scheduler fires again what a firing left due by now
            pass
        publish = publication(self.sla)
        for notification in self.sla.recorder.select_notifications(1, 100_000):
            if (record := publish(notification)) is not None:
                self.published.append(typed(record[1].model_dump(mode="json")))

    def replay(self, candidate: dict[str, Any], until: datetime) -> dict[str, Any]:
        setups = SetupHistory.of(self.sla, TENANT)
        changed = setups.changed(lambda s: Candidate.model_validate(candidate).applied(s, TENANT, setups.newest()))
        return replayed(sorted(self.published, key=in_order), setups, changed, until, lambda done, total: None)


@pytest.fixture
def month() -> Month:
    month = Month()
    month.seed(120)
    month.scheduler_catches_up(START + timedelta(days=40))
    return month


def standard(first_response: str) -> dict[str, Any]:
    """The standard policy as a candidate, its first response target `first_response` (ISO 8601)."""
    targets = {"first_response": first_response, "next_response": "PT8H", "resolution": "PT16H"}
    return {"policies": [{"policy_id": "standard", "calendar": "berlin", "warn_at": [75], "targets": targets}]}


UNCHANGED, TIGHTER = standard("PT4H"), standard("PT1H")


def test_replaying_the_month_under_the_current_policy_reproduces_every_warning_and_breach(month: Month) -> None:
    report = month.replay(UNCHANGED, START + timedelta(days=40))
    history = report["reproduces_history"]
    assert history["checked"] > 50
    assert history["differed"] == 0, history["examples"]
    assert report["breaches"]["added"] == report["breaches"]["avoided"] == 0
    assert report["breaches"]["current"] > 0


def test_a_tighter_first_response_reports_exactly_the_breaches_it_adds(month: Month) -> None:
    report = month.replay(TIGHTER, START + timedelta(days=40))
    breaches = report["breaches"]
    hours = BusinessCalendar.from_spec(BERLIN_HOURS)
    late_by_the_hour = {
        number
        for number, (priority, opened, answered) in month.answered.items()
        if priority == "P3" and 3600 <= hours.business_seconds(opened, answered) < 4 * 3600
    }
    assert breaches["by_target"]["first_response"]["added"] == len(late_by_the_hour) > 0
    assert breaches["by_priority"]["P3"]["added"] == len(late_by_the_hour)
    assert {e["number"] for e in breaches["examples"]["added"]} <= late_by_the_hour
    assert breaches["avoided"] == 0
    assert breaches["by_target"].get("resolution", {}).get("added", 0) == 0
    example = breaches["examples"]["added"][0]
    assert example["target"] == "first_response"
    assert example["number"].startswith("SD-")
    assert example["due_after"] == example["breached_after"] <= example["answered_at"] < example["due_before"]


def test_a_candidate_names_the_field_it_gets_wrong() -> None:
    with pytest.raises(ValidationError) as error:
        Candidate.model_validate({"policies": [{"policy_id": "standard", "targets": {"first_response": "soon"}}]})
    assert error.value.errors()[0]["loc"] == ("policies", 0, "targets", "first_response")
    with pytest.raises(SlaSetupError) as refused:
        Candidate.model_validate({"policies": [{"policy_id": "x", "calendar": "mars", "targets": {
            "resolution": "PT1H"}}]}).applied(None, TENANT)  # fmt: skip
    assert refused.value.field == "policies.0.calendar"


def test_the_command_line_shows_the_report_as_a_short_table(month: Month) -> None:
    report = month.replay(TIGHTER, START + timedelta(days=40)) | {"tenant": TENANT}
    console = Console(file=io.StringIO(), width=100)
    console.print(table(report))
    shown = " ".join(console.file.getvalue().split())  # type: ignore[attr-defined]
    assert "first_response" in shown
    assert f"differed from the record on 0 of {report['reproduces_history']['checked']}" in shown


def test_a_ticket_put_pending_after_its_warning_fell_due_records_the_warning_at_its_instant() -> None:
    month = Month()
    month.seed(0)
    ticket, opened = str(uuid.uuid4()), START + timedelta(hours=2)  # Monday 09:00 UTC: Berlin business hours
    month.event(ticket, "ticket.opened", opened, version=2, number="SD-1", requester_id="customer-1",
                channel="email", category="network", type="incident", priority="P3")  # fmt: skip
    pending_from = opened + timedelta(hours=3, minutes=30)  # the 75 % warning fell due at 3 h; nobody fired it
    month.event(ticket, "ticket.status_changed", pending_from, status="pending", change="marked_pending",
                waiting_for="customer", pending_until=(pending_from + timedelta(days=1)).isoformat())  # fmt: skip
    warned = [e for e in month.sla.events.get(uuid.UUID(ticket)) if type(e).__name__ == "Warned"]
    assert [(w.metric, w.at) for w in warned] == [("first_response", opened + timedelta(hours=3))]  # type: ignore[attr-defined]


def test_a_customer_answering_after_the_pending_time_ran_out_finds_the_clock_ran_from_its_end() -> None:
    month = Month()
    ticket, opened = str(uuid.uuid4()), START + timedelta(hours=2)
    month.event(ticket, "ticket.opened", opened, version=2, number="SD-1", requester_id="customer-1",
                channel="email", category="network", type="incident", priority="P3")  # fmt: skip
    until = opened + timedelta(hours=2)
    month.event(ticket, "ticket.status_changed", opened + timedelta(hours=1), status="pending",
                change="marked_pending", waiting_for="customer", pending_until=until.isoformat())  # fmt: skip
    month.event(ticket, "ticket.commented", opened + timedelta(hours=5), version=2, comment_id="c1", public=True,
                author_id="customer-1", channel="email", author_kind="requester")  # fmt: skip
    resumed: list[Any] = [e for e in month.sla.events.get(uuid.UUID(ticket)) if type(e).__name__ == "MetricResumed"]
    assert {(e.metric, e.at) for e in resumed} == {("first_response", until), ("resolution", until)}
