"""Timed triggers counting business hours, without a store or a clock: "open for more than 4 business hours"
in a 9-to-17 Berlin calendar falls due on Monday at noon when the ticket opened on Friday at 16:00, holds from
that instant on, and the in-memory rules service fires it then; the calendar must be one the SLA service
knows, read when the trigger is saved and kept with it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.rules import conditions
from services.rules.conditions import ConditionError
from services.rules.domain import TicketAutomation
from services.rules.requests import TriggerChange, TriggerSpec
from services.rules.timing import due_epoch
from tests.unit.test_rules_firing import TENANT, Desk

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = {"time_zone": "Europe/Berlin", "weekly": {day: [["09:00", "17:00"]] for day in WEEKDAYS}}
FRIDAY_4PM = datetime(2026, 3, 6, 16, 0, tzinfo=BERLIN).timestamp()
MONDAY_NOON = datetime(2026, 3, 9, 12, 0, tzinfo=BERLIN).timestamp()


def waiting(hours: float = 4, calendar: str = "berlin") -> dict[str, Any]:
    return {"field": "hours_since", "of": "opened", "op": "greater", "value": hours, "business_hours": True,
            "calendar": calendar}  # fmt: skip


def spec_of(*more: dict[str, Any], calendars: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"name": "Unanswered", "when": ["time"], "if": [waiting(), *more], "then": {"tags_add": ["late"]}}
    return TriggerSpec.model_validate(body).stored({"berlin": OFFICE} if calendars is None else calendars)


def test_four_business_hours_from_friday_at_four_fall_due_on_monday_at_noon() -> None:
    assert due_epoch(spec_of(), {"opened_at": FRIDAY_4PM}, others_hold=True) == MONDAY_NOON


def test_the_condition_holds_from_its_business_instant_on_and_says_so() -> None:
    [since] = conditions.check(spec_of()["if"])
    facts = {"opened_at": FRIDAY_4PM}
    saturday_night = datetime(2026, 3, 7, 23, 0, tzinfo=BERLIN).timestamp()
    assert not conditions.holds(since, facts, facts, at=saturday_night)  # 31 wall-clock hours, 1 business hour
    assert not conditions.holds(since, facts, facts, at=MONDAY_NOON - 1)
    assert conditions.holds(since, facts, facts, at=MONDAY_NOON)
    assert since.describe() == "opened more than 4 business hours (berlin) ago"


def test_the_calendar_is_kept_with_the_trigger_and_read_again_when_it_is_saved_again() -> None:
    stored = spec_of()
    assert stored["if"][0] | {} == waiting() | {"calendar_spec": OFFICE}
    assert [c.stored() for c in conditions.check(stored["if"])] == stored["if"]  # read back without the SLA
    later = OFFICE | {"holidays": ["2026-03-09"]}
    revised = TriggerChange.model_validate({"name": "Unanswered still"}).applied_to(stored).stored({"berlin": later})
    assert revised["if"][0]["calendar_spec"] == later


@pytest.mark.parametrize(
    ("calendars", "message"),
    [
        ({}, "no calendar 'berlin' in the SLA service: one of none yet"),
        ({"office": OFFICE}, "no calendar 'berlin' in the SLA service: one of office"),
        ({"berlin": {"time_zone": "Mars/Olympus", "weekly": {}}}, "unknown time zone"),
    ],
)
def test_a_calendar_the_sla_service_does_not_know_is_refused_naming_it(calendars: dict[str, Any], message: str) -> None:
    with pytest.raises(ConditionError) as refused:
        conditions.check([waiting()], calendars=calendars)
    assert (refused.value.field, message in refused.value.message) == ("if[0].calendar", True)


def test_the_rules_service_fires_a_business_hours_trigger_on_its_instant_only() -> None:
    desk = Desk()
    trigger = desk.rules.create_trigger(TENANT, spec_of({"field": "status", "op": "is_not", "value": "closed"}), "a")
    ticket_id = desk.open()
    found: object = desk.rules.repository.get(TicketAutomation.create_id(TENANT, ticket_id))
    assert isinstance(found, TicketAutomation)
    opened, due = found.facts["opened_at"], found.timers[str(trigger.id)]
    assert due == due_epoch(trigger.spec, found.facts, others_hold=True)
    assert due - opened >= 4 * 3600  # never sooner than the wall clock's 4 hours
    key = f"{found.id}/{trigger.id}"
    assert not desk.rules.fire_timers([key], datetime.fromtimestamp(due - 1, UTC))
    assert desk.rules.fire_timers([key], datetime.fromtimestamp(due, UTC))
    [firing] = desk.firings()
    assert "opened more than 4 business hours (berlin) ago" in firing.reason
