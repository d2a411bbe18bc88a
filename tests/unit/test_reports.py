"""A day of tickets with known timings, through the analytics projection, gives the
hand-computed first-response and resolution figures, compliance and reopen rate."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking

from schemas.envelope import Envelope
from schemas.registry import parse_data
from services.analytics.projections import AnalyticsProjection
from services.analytics.reports import Filters, backlog, csat, flow, service_levels, workload
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import tracking_recorder

DAY = date(2026, 11, 23)


class Day:
    def __init__(self, tmp_path: Path) -> None:
        self.projection = AnalyticsProjection(tracking_recorder(Settings(data_dir=tmp_path), "analytics"))
        self.positions = itertools.count(1)

        self.log: list[tuple[Envelope, Any, Tracking]] = []
        self.date = DAY
        self.hour = 12

    def event(self, kind: str, ticket_id: str, version: int = 1, source: str = "intake", **data: Any) -> None:
        position = next(self.positions)
        envelope = Envelope(
            id=uuid.uuid4(), type=kind, version=version, source=source, subject=ticket_id, tenant="acme",
            actor="a", occurred_at=datetime.combine(self.date, time(self.hour), UTC), sequence=1, position=position,
            correlation_id="c", causation_id="c", data={"ticket_id": ticket_id} | data,
        )  # fmt: skip
        self.log.append((envelope, parse_data(envelope), Tracking(source, position)))
        self.projection.apply(*self.log[-1])

    def clock(self, ticket_id: str, metric: str, target: int, policy_id: str = "std") -> Callable[..., None]:
        """Records the SLA events of one target of the ticket: `sla("met", used, breached=False)`."""

        def sla(kind: str, used: int, **data: Any) -> None:
            self.event(f"sla.{kind}", ticket_id, source="sla", policy_id=policy_id, metric=metric,
                       target_seconds=target, due_at="x", business_seconds_used=used, **data)  # fmt: skip

        return sla

    def opened(self, priority: str = "P3", channel: str = "email") -> str:
        ticket_id = str(uuid.uuid4())
        self.event("ticket.opened", ticket_id, version=2, number="SD-1", requester_id="c", channel=channel,
                   category="network", type="incident", priority=priority)  # fmt: skip
        return ticket_id

    def ticket(self, priority: str, first_response: int, resolution: int, breached: tuple[bool, bool]) -> str:
        """A ticket answered after `first_response` and resolved after `resolution` business seconds."""
        ticket_id = self.opened(priority)
        for metric, used, target, late in (("first_response", first_response, 3600, breached[0]),
                                           ("resolution", resolution, 28800, breached[1])):  # fmt: skip
            sla = self.clock(ticket_id, metric, target)
            sla("started", 0)
            if late:
                sla("breached", target)
            sla("met", used, breached=late)
        self.event("ticket.status_changed", ticket_id, status="resolved", change="resolved")
        return ticket_id


def test_a_day_of_tickets_gives_the_hand_computed_service_levels(tmp_path: Path) -> None:
    day = Day(tmp_path)
    # first responses 600, 1200, 1800, 5400 s (the last breached its 3600 s target);
    # resolutions 3600, 7200, 14400, 36000 s (the last breached its 8 h target)
    day.ticket("P2", 600, 3600, (False, False))
    day.ticket("P2", 1200, 7200, (False, False))
    day.ticket("P3", 1800, 14400, (False, False))
    again = day.ticket("P1", 5400, 36000, (True, True))
    day.event("ticket.status_changed", again, status="open", change="reopened")

    report = service_levels(day.projection.view, "acme", DAY, DAY)
    first, resolution = report["first_response"], report["resolution"]
    assert (first["targets"], first["met_in_time"], first["breached"]) == (4, 3, 1)
    assert first["compliance_percent"] == 75.0
    assert first["median_seconds"] == 1500  # (1200 + 1800) / 2
    assert first["p90_seconds"] == 4320  # 1800 + 0.7 * (5400 - 1800)
    assert resolution["median_seconds"] == 10800  # (7200 + 14400) / 2
    assert resolution["p90_seconds"] == 29520  # 14400 + 0.7 * (36000 - 14400)
    assert report["next_response"]["targets"] == 0
    assert (
        service_levels(day.projection.view, "acme", DAY, DAY, Filters(priority="P2"))["first_response"][
            "median_seconds"
        ]
        == 900
    )
    assert (
        service_levels(day.projection.view, "acme", DAY, DAY, Filters(channel="chat"))["first_response"]["targets"] == 0
    )
    day.event("ticket.assigned", again, group_id="second-line", agent_id="vic")
    by_group = service_levels(day.projection.view, "acme", DAY, DAY, Filters(group="second-line"))["first_response"]
    assert (by_group["targets"], by_group["breached"], by_group["median_seconds"]) == (1, 1, 5400)
    assert flow(day.projection.view, "acme", DAY, DAY) == [
        {"day": "2026-11-23", "opened": 4, "resolved": 4, "reopened": 1}
    ]


def test_a_breach_counts_the_day_it_burns_and_shows_while_the_target_is_still_open(tmp_path: Path) -> None:
    day = Day(tmp_path)
    ticket_id = day.opened("P1")
    sla = day.clock(ticket_id, "first_response", 1800, "p1")
    sla("started", 0)
    day.hour = 13
    sla("breached", 1800)
    first = service_levels(day.projection.view, "acme", DAY, DAY)["first_response"]
    assert (first["targets"], first["met_in_time"], first["breached"], first["breached_still_open"]) == (1, 0, 1, 1)
    assert first["compliance_percent"] == 0.0
    day.hour = 14
    sla("met", 7200, breached=True)
    first = service_levels(day.projection.view, "acme", DAY, DAY)["first_response"]
    assert (first["targets"], first["breached"], first["breached_still_open"]) == (1, 1, 0)
    assert first["median_wall_clock_seconds"] == 7200


def test_an_unanswered_breach_of_a_resolved_ticket_is_no_longer_open(tmp_path: Path) -> None:
    day = Day(tmp_path)
    ticket_id = day.opened("P1")
    sla = day.clock(ticket_id, "first_response", 1800, "p1")
    sla("started", 0)
    sla("breached", 1800)
    day.event("ticket.status_changed", ticket_id, status="resolved", change="resolved")
    first = service_levels(day.projection.view, "acme", DAY, DAY)["first_response"]
    assert (first["breached"], first["breached_still_open"]) == (1, 0)


def test_time_to_resolve_shows_on_the_wall_clock_beside_business_time(tmp_path: Path) -> None:
    day = Day(tmp_path)
    ticket_id = day.opened()
    sla = day.clock(ticket_id, "resolution", 28800)
    sla("started", 0)
    day.hour = 13
    sla("started", 3600)  # re-targeted
    day.hour = 18  # six hours after it opened on the wall clock, three of them business time
    sla("met", 3 * 3600)
    resolution = service_levels(day.projection.view, "acme", DAY, DAY)["resolution"]
    assert (resolution["median_seconds"], resolution["median_wall_clock_seconds"]) == (3 * 3600, 6 * 3600)


def days(n: int) -> date:
    return DAY + timedelta(days=n)


def reports_of(day: Day, *dates: date) -> dict[date, dict[str, Any]]:
    return {on: service_levels(day.projection.view, "acme", on, on) for on in dates}


def test_a_next_response_breach_stays_counted_when_the_customer_writes_again(tmp_path: Path) -> None:
    day = Day(tmp_path)
    ticket_id = day.opened("P1")
    sla = day.clock(ticket_id, "next_response", 3600, "p1")
    sla("started", 0)  # the customer wrote
    day.date = days(1)
    sla("breached", 3600)
    day.date = days(2)
    sla("met", 5400, breached=True)  # late reply
    before = reports_of(day, days(1), days(2))
    assert (before[days(1)]["next_response"]["breached"], before[days(2)]["next_response"]["median_seconds"]) == (
        1, 5400,
    )  # fmt: skip
    day.date = days(3)
    sla("started", 0)  # the customer writes again
    assert reports_of(day, days(1), days(2)) == before, "the breach and the late answer stay where they were"
    assert service_levels(day.projection.view, "acme", days(3), days(3))["next_response"]["targets"] == 0
    day.date = days(4)
    sla("met", 600, breached=False)
    everything = service_levels(day.projection.view, "acme", DAY, days(4))["next_response"]
    assert (everything["targets"], everything["met_in_time"], everything["breached"]) == (2, 1, 1)


def test_a_reopened_ticket_keeps_its_resolution_in_time_and_shows_its_new_breach_open(tmp_path: Path) -> None:
    day = Day(tmp_path)
    ticket_id = day.opened()
    sla = day.clock(ticket_id, "resolution", 28800)
    sla("started", 0)
    day.date = days(1)
    sla("met", 7200, breached=False)
    day.event("ticket.status_changed", ticket_id, status="resolved", change="resolved")
    before = reports_of(day, days(1))
    assert (before[days(1)]["resolution"]["targets"], before[days(1)]["resolution"]["met_in_time"]) == (1, 1)
    day.date = days(2)
    day.event("ticket.status_changed", ticket_id, status="open", change="reopened")
    sla("resumed", 7200)
    day.date = days(4)
    sla("breached", 28800)
    assert reports_of(day, days(1)) == before, "the resolution in time stays on the day it was met"
    burned = service_levels(day.projection.view, "acme", days(4), days(4))["resolution"]
    assert (burned["targets"], burned["breached"], burned["breached_still_open"]) == (1, 1, 1)
    day.date = days(5)
    sla("met", 30000, breached=True)
    day.event("ticket.status_changed", ticket_id, status="resolved", change="resolved")
    assert service_levels(day.projection.view, "acme", days(4), days(4))["resolution"]["breached_still_open"] == 0
    resolved = service_levels(day.projection.view, "acme", days(5), days(5))["resolution"]
    assert (resolved["targets"], resolved["median_seconds"]) == (0, 30000), "the late resolution counted once"
    assert resolved["median_wall_clock_seconds"] == 5 * 86400, "time to resolve counts from the ticket's opening"


def test_a_ticket_reopened_after_its_resolution_burned_shows_a_breach_still_open(tmp_path: Path) -> None:
    day = Day(tmp_path)
    ticket_id = day.opened()
    sla = day.clock(ticket_id, "resolution", 28800)
    sla("started", 0)
    day.date = days(1)
    sla("breached", 28800)
    day.date = days(2)
    sla("met", 30000, breached=True)
    day.event("ticket.status_changed", ticket_id, status="resolved", change="resolved")
    before = reports_of(day, days(1), days(2))
    day.date = days(3)
    day.event("ticket.status_changed", ticket_id, status="open", change="reopened")
    sla("resumed", 30000)  # due at once
    assert reports_of(day, days(1), days(2)) == before
    reopened = service_levels(day.projection.view, "acme", days(3), days(3))["resolution"]
    assert (reopened["targets"], reopened["breached"], reopened["breached_still_open"]) == (1, 1, 1)


def test_satisfaction_counts_the_surveys_sent_and_the_ratings_given(tmp_path: Path) -> None:
    day = Day(tmp_path)
    tickets = [day.opened() for _ in range(4)]
    day.event("ticket.survey_requested", str(uuid.uuid4()))  # a ticket analytics never saw opened: not counted
    for ticket_id in tickets:
        day.event("ticket.survey_requested", ticket_id)
    for ticket_id, score in zip(tickets[:3], (5, 4, 2), strict=True):
        day.event("ticket.rated", ticket_id, score=score)
    day.event("ticket.rated", tickets[2], score=3)  # the customer changed their mind: the latest counts

    report = csat(day.projection.view, "acme", DAY, DAY)
    assert (report["surveys"], report["answered"], report["response_rate_percent"]) == (4, 3, 75.0)
    assert report["average_score"] == 4.0  # (5 + 4 + 3) / 3
    assert report["scores"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}


def test_agent_workload_counts_open_tickets_held_and_resolutions_credited_to_the_assignee(tmp_path: Path) -> None:
    day = Day(tmp_path)
    tickets = [day.ticket("P3", 60, 600, (False, False)) for _ in range(3)]  # opened, then resolved
    for ticket_id in tickets:
        day.event("ticket.status_changed", ticket_id, status="open", change="reopened")
    day.event("ticket.assigned", tickets[0], group_id="billing", agent_id="ann")
    day.event("ticket.assigned", tickets[1], group_id="billing", agent_id="ann")
    day.event("ticket.assigned", tickets[2], group_id="billing", agent_id="boris")
    day.event("ticket.status_changed", tickets[2], status="resolved", change="resolved")  # boris resolves his

    rows = workload(day.projection.view, "acme", DAY, DAY)
    assert rows == [
        {"agent_id": "ann", "group_id": "billing", "open": 2, "resolved": 0},
        {"agent_id": "boris", "group_id": "billing", "open": 0, "resolved": 1},
    ]


def test_reports_count_per_group_agent_and_channel_and_inflow_per_hour(tmp_path: Path) -> None:
    day = Day(tmp_path)
    day.hour = 9
    ann = [day.opened(channel="email") for _ in range(3)]
    day.hour = 10
    boris = [day.opened(channel="chat") for _ in range(2)]
    for ticket_id in ann:
        day.event("ticket.assigned", ticket_id, group_id="billing", agent_id="ann")
    for ticket_id in boris:
        day.event("ticket.assigned", ticket_id, group_id="network", agent_id="boris")
    day.hour = 11
    day.event("ticket.status_changed", ann[0], status="resolved", change="resolved")
    day.event("ticket.survey_requested", ann[0])
    day.event("ticket.rated", ann[0], score=5)
    day.event("ticket.assigned", ann[0], group_id="network", agent_id="boris")  # moved on after ann resolved it
    view = day.projection.view

    assert backlog(view, "acme", Filters(agent="ann"))["open"] == 2
    assert backlog(view, "acme", Filters(group="network"))["by_agent"] == {"boris": 2}
    assert backlog(view, "acme", Filters(channel="chat"))["open"] == 2
    assert flow(view, "acme", DAY, DAY, Filters(channel="email"), bucket="hour") == [
        {"hour": "2026-11-23T09:00:00+00:00", "opened": 3, "resolved": 0, "reopened": 0},
        {"hour": "2026-11-23T11:00:00+00:00", "opened": 0, "resolved": 1, "reopened": 0},
    ]
    # the resolution stays credited to ann, who resolved it; the ticket counts for boris now
    assert flow(view, "acme", DAY, DAY, Filters(agent="ann"))[0]["resolved"] == 1
    assert flow(view, "acme", DAY, DAY, Filters(agent="boris"))[0] == {
        "day": "2026-11-23", "opened": 3, "resolved": 0, "reopened": 0,
    }  # fmt: skip
    assert csat(view, "acme", DAY, DAY, Filters(group="network"))["average_score"] == 5.0
    assert csat(view, "acme", DAY, DAY, Filters(group="billing"))["surveys"] == 0


def test_the_backlog_counts_open_tickets_by_age(tmp_path: Path) -> None:
    day = Day(tmp_path)
    for _ in range(2):
        day.opened()
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    ages = [backlog(day.projection.view, "acme", now=now + timedelta(days=d))["by_age"] for d in (0, 2, 40)]
    assert [a["under 1 day"] for a in ages] == [2, 0, 0]
    assert [a["1-3 days"] for a in ages] == [0, 2, 0]
    assert [a["over 30 days"] for a in ages] == [0, 0, 2]


def test_a_batch_of_events_leaves_the_same_rows_as_applying_them_one_by_one(tmp_path: Path) -> None:
    one_by_one = Day(tmp_path / "one")
    tickets = [one_by_one.ticket("P2", 60 * n, 600 * n, (n % 3 == 0, n % 4 == 0)) for n in range(1, 9)]
    resolution: dict[str, Any] = {"policy_id": "std", "metric": "resolution", "target_seconds": 28800, "due_at": "x"}
    for n, ticket_id in enumerate(tickets):
        one_by_one.event("ticket.assigned", ticket_id, group_id=f"g{n % 2}", agent_id=f"a{n % 3}")
        one_by_one.event("ticket.status_changed", ticket_id, status="open", change="reopened")
        one_by_one.event("sla.resumed", ticket_id, source="sla", business_seconds_used=600 * n, **resolution)
        if n % 2:
            one_by_one.event("sla.breached", ticket_id, source="sla", business_seconds_used=28800, **resolution)
        one_by_one.event("sla.met", ticket_id, source="sla", business_seconds_used=900 * n, **resolution)
        one_by_one.event("ticket.priority_changed", ticket_id, priority="P1", previous="P2")
        one_by_one.event("ticket.status_changed", ticket_id, status="resolved", change="resolved")
        one_by_one.event("ticket.survey_requested", ticket_id)
        one_by_one.event("ticket.rated", ticket_id, score=1 + n % 5)
    batched = Day(tmp_path / "batched")
    for start in range(0, len(one_by_one.log), 7):
        batched.projection.apply_many(one_by_one.log[start : start + 7])
    assert batched.projection.rows() == one_by_one.projection.rows()
