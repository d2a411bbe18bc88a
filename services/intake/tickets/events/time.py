"""Time worked on a ticket: entries logged, never edited; a wrong one is replaced by a later entry that
corrects it."""

from __future__ import annotations

from typing import Any

from services.intake.tickets.events.base import TicketEvent


class TimeLogged(TicketEvent):
    """`note` is sealed with the requester's key (erasing them keeps the minutes, drops the note);
    `worked_on` an ISO date; `corrects` the entry this one replaces."""

    entry_id: str
    minutes: int
    activity: str
    billable: bool
    note: str
    agent_id: str
    worked_on: str
    corrects: str | None
    requester_id: str  # whom, which organisation and group the time was for when it was logged (reports)
    organisation: str | None
    group_id: str | None

    def apply(self, ticket: Any) -> None:
        fields = ("minutes", "activity", "billable", "note", "agent_id", "worked_on", "corrects")
        entry: dict[str, Any] = {name: getattr(self, name) for name in fields}
        entry |= {"logged_at": self.timestamp.isoformat(), "corrected_by": None}
        entries = dict(ticket.time_entries)
        if self.corrects is not None:
            entries[self.corrects] = entries[self.corrects] | {"corrected_by": self.entry_id}
        ticket.logged_time = entries | {self.entry_id: entry}  # read as `Ticket.time_entries`
