"""Time entries on a ticket, in memory: logged with a reply in one save or alone, corrected by a new entry and
never edited, checked against the tenant's activity types, published without the note, and the note sealed so
that erasing the requester keeps the minutes."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from schemas.tickets import TicketTimeLoggedV1
from services.intake.privacy.personal_data import ERASED
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.commands import TimeEntry
from services.intake.tickets.errors import TimeEntryError
from services.intake.tickets.form import TicketForm
from services.intake.tickets.publication import public_data
from tests.privacy import memory_intake

AGENT = Cause("acme", "agent-7", "corr", "cause")
DAY = date(2026, 11, 30)


def a_desk() -> tuple[Intake, UUID]:
    intake = memory_intake()
    intake.define_activity_type("acme", "support", "Support", True, "admin-1")
    intake.define_activity_type("acme", "travel", "Travel", False, "admin-1")
    form = TicketForm("Printer jam", "", "customer-1", "email", "hardware", "incident", "P3", organisation="initech")
    return intake, intake.open_ticket(uuid4(), form, AGENT).ticket.id


def entry(
    minutes: int, activity: str = "support", note: str = "", billable: bool | None = None, corrects: str | None = None
) -> TimeEntry:
    return TimeEntry(f"t-{uuid4().hex[:8]}", minutes, activity, DAY, note, billable, corrects)


def test_time_logged_with_a_reply_is_one_save_and_billable_as_its_activity_says() -> None:
    intake, ticket_id = a_desk()
    before = intake.recorder.max_notification_id()

    ticket = intake.comment(ticket_id, AGENT, "c-1", "Fixed", True, "api", staff=True, time_entry=entry(25))
    travel = intake.log_time(ticket_id, AGENT, entry(40, "travel", note="Drove there"))

    assert (intake.recorder.max_notification_id() or 0) - (before or 0) == 3  # comment and entry together, then one
    assert [e["minutes"] for e in ticket.time_entries.values()] == [25]
    sheet = intake.time_sheet(travel)
    assert [(e.minutes, e.billable, e.note, e.agent_id) for e in sheet.entries] == [
        (25, True, "", "agent-7"), (40, False, "Drove there", "agent-7")
    ]  # fmt: skip
    assert (sheet.minutes, sheet.billable_minutes) == (65, 25)


def test_a_correction_replaces_the_entry_it_names_and_is_published_without_the_note() -> None:
    intake, ticket_id = a_desk()
    wrong = entry(90, note="Call with Ivan Petrov")
    intake.log_time(ticket_id, AGENT, wrong)
    fixed = entry(45, corrects=wrong.entry_id, billable=False)

    ticket = intake.log_time(ticket_id, AGENT, fixed)

    sheet = intake.time_sheet(ticket)
    assert [(e.minutes, e.corrected_by) for e in sheet.entries] == [(90, fixed.entry_id), (45, None)]
    assert (sheet.minutes, sheet.billable_minutes) == (45, 0)
    event = list(intake.history(ticket_id, "acme"))[-1]
    published = public_data(event)
    assert published == TicketTimeLoggedV1(
        ticket_id=str(ticket_id), entry_id=fixed.entry_id, agent_id="agent-7", minutes=45, activity="support",
        billable=False, worked_on=DAY, corrects=wrong.entry_id, requester_id="customer-1", organisation="initech",
    )  # fmt: skip
    assert "Ivan" not in str(vars(event)), "the note is stored sealed"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (entry(0), "minutes"),
        (entry(-5), "minutes"),
        (entry(2000), "minutes"),
        (entry(15, "golf"), "activity"),
        (entry(15, corrects="t-nope"), "corrects"),
    ],
)
def test_a_bad_entry_is_refused_naming_its_field(bad: TimeEntry, field: str) -> None:
    intake, ticket_id = a_desk()
    with pytest.raises(TimeEntryError) as refused:
        intake.log_time(ticket_id, AGENT, bad)
    assert refused.value.field == field
    assert intake.get_ticket(ticket_id, "acme").time_entries == {}


def test_an_entry_is_corrected_once_and_a_retired_activity_takes_no_more_time() -> None:
    intake, ticket_id = a_desk()
    first = entry(30)
    intake.log_time(ticket_id, AGENT, first)
    intake.log_time(ticket_id, AGENT, entry(20, corrects=first.entry_id))
    intake.retire_activity_type("acme", "travel", "admin-1")

    with pytest.raises(TimeEntryError, match="corrected by"):
        intake.log_time(ticket_id, AGENT, entry(10, corrects=first.entry_id))
    with pytest.raises(TimeEntryError, match="no activity type 'travel'"):
        intake.log_time(ticket_id, AGENT, entry(10, "travel"))
    assert list(intake.activity_types_of("acme")) == ["support"]


def test_erasing_the_requester_keeps_the_minutes_and_drops_the_note() -> None:
    intake, ticket_id = a_desk()
    intake.log_time(ticket_id, AGENT, entry(40, note="Called Ivan Petrov at home"))

    intake.personal.destroy_key("acme", "customer-1")

    sheet = intake.time_sheet(intake.get_ticket(ticket_id, "acme"))
    assert [(e.minutes, e.note) for e in sheet.entries] == [(40, ERASED)]
