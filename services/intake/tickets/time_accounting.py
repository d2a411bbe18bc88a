"""Time accounting for the application (application.py): time entries logged on tickets, alone or with a
reply, checked against the tenant's activity types; and the activity types themselves.

An entry's note is the requester's personal data like a comment: sealed with their key before the ticket
records it, so erasing the requester keeps the minutes and drops the note.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from services.chassis.storage.processing import find
from services.intake.tickets.activity_types import TenantActivityTypes
from services.intake.tickets.cause import Cause
from services.intake.tickets.changing import TicketChanges
from services.intake.tickets.commands import TimeEntry
from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import TicketRuleError, TimeEntryError


class TimeEntryView(BaseModel):
    id: str
    minutes: int
    activity: str
    billable: bool
    note: str = Field(description="`[erased]` once the requester was erased.")
    agent_id: str
    worked_on: str = Field(description="The day worked (ISO date).")
    corrects: str | None = Field(description="The entry this one replaces.")
    corrected_by: str | None = Field(description="The entry that replaces this one: it no longer counts.")
    logged_at: str


class TimeSheet(BaseModel):
    """A ticket's time entries, oldest first, and the minutes of those that count (not corrected)."""

    ticket_id: UUID
    entries: list[TimeEntryView]
    minutes: int
    billable_minutes: int


class TimeAccounting(TicketChanges):
    """The time commands and reads of the application."""

    def log_time(self, ticket_id: UUID, cause: Cause, entry: TimeEntry, expected_version: int | None = None) -> Ticket:
        billable = self.billable_of(cause.tenant, entry)
        return self._change(ticket_id, cause, lambda t: self._log(t, cause, entry, billable), expected_version)

    def time_sheet(self, ticket: Ticket) -> TimeSheet:
        entries = self.personal.opened(ticket.tenant, ticket.time_entries)
        views = [TimeEntryView(id=key, **value) for key, value in entries.items()]
        counted = [v for v in views if v.corrected_by is None]
        return TimeSheet(
            ticket_id=ticket.id,
            entries=views,
            minutes=sum(v.minutes for v in counted),
            billable_minutes=sum(v.minutes for v in counted if v.billable),
        )

    def billable_of(self, tenant: str, entry: TimeEntry) -> bool:
        """Whether the entry is billable (its own say, else its activity type's); TimeEntryError naming
        `activity` for a type the tenant does not have (or retired)."""
        spec = self._activity_types(tenant).active().get(entry.activity)
        if spec is None:
            raise TimeEntryError("activity", f"no activity type {entry.activity!r} for this tenant")
        return bool(spec["billable"]) if entry.billable is None else entry.billable

    def _log(self, ticket: Ticket, cause: Cause, entry: TimeEntry, billable: bool) -> None:
        note = self._seal(ticket, entry.note) if entry.note else ""
        ticket.log_time(
            entry.entry_id,
            entry.minutes,
            entry.activity,
            billable,
            note,
            cause.actor,
            entry.worked_on.isoformat(),
            entry.corrects,
        )

    # -- activity types --------------------------------------------------------

    def define_activity_type(
        self, tenant: str, key: str, label: str, billable: bool, actor: str
    ) -> TenantActivityTypes:
        types = self._activity_types(tenant)
        types.define(key, label, billable, actor)
        self.save(types)
        return types

    def retire_activity_type(self, tenant: str, key: str, actor: str) -> TenantActivityTypes:
        types = self._activity_types(tenant)
        if key not in types.active():
            raise TicketRuleError("key", f"no active activity type {key!r}")
        types.retire(key, actor)
        self.save(types)
        return types

    def activity_types_of(self, tenant: str) -> dict[str, dict[str, Any]]:
        return self._activity_types(tenant).active()

    def _activity_types(self, tenant: str) -> TenantActivityTypes:
        return find(self, TenantActivityTypes.create_id(tenant), TenantActivityTypes) or TenantActivityTypes(tenant)
