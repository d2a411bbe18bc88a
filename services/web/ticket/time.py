"""Time worked on a ticket: the entries and their total as the ticket page shows them, and logging time alone
or correcting an entry (with a reply: the reply route, services/web/tickets.py, sends `time_entry`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session
from services.web.ticket.common import Show

FIELDS = ("minutes", "activity", "billable", "note", "worked_on", "corrects")


@dataclass(frozen=True)
class TimeEntry:
    id: str
    worked_on: str
    agent_id: str
    activity: str
    minutes: int
    billable: bool
    note: str
    corrects: str | None
    corrected_by: str | None


@dataclass(frozen=True)
class TimeSheet:
    """The ticket's time entries, and the hours and minutes that count (a corrected entry does not)."""

    entries: list[TimeEntry]
    minutes: int
    billable_minutes: int
    activities: dict[str, str]  # key -> label, the form's choices

    @staticmethod
    def hours(minutes: int) -> str:
        return f"{minutes // 60}:{minutes % 60:02d}"

    @property
    def total(self) -> str:
        return self.hours(self.minutes)

    @property
    def billable(self) -> str:
        return self.hours(self.billable_minutes)

    @classmethod
    def of(cls, sheet: dict[str, Any] | None, types: dict[str, Any] | None) -> TimeSheet:
        entries = [
            TimeEntry(
                e["id"], e["worked_on"], e["agent_id"], e["activity"], int(e["minutes"]), bool(e["billable"]),
                e.get("note") or "", e.get("corrects"), e.get("corrected_by"),
            )
            for e in (sheet or {}).get("entries", [])
        ]  # fmt: skip
        activities = {key: str(spec.get("label") or key) for key, spec in (types or {}).items()}
        return cls(
            entries, int((sheet or {}).get("minutes", 0)), int((sheet or {}).get("billable_minutes", 0)), activities
        )


def entry_of(minutes: str, activity: str, note: str = "", worked_on: str = "", billable: str = "") -> dict[str, Any]:
    """A time entry as the API takes it, from a form's fields (what is empty left to the API's defaults)."""
    entry: dict[str, Any] = {"minutes": _number(minutes), "activity": activity.strip()}
    if note.strip():
        entry["note"] = note.strip()
    if worked_on:
        entry["worked_on"] = worked_on
    if billable in ("true", "false"):
        entry["billable"] = billable == "true"
    return entry


def beside_reply(error: GatewayError) -> dict[str, str]:
    """The API's refusal of a reply with time: a time entry's field (`time_entry.activity`) beside the reply's
    time fields (`time_activity`; minutes for the rest of the entry), anything else beside the message."""
    placed: dict[str, str] = {}
    for path, message in forms.named(error):
        head, _dot, rest = path.partition(".")
        if head == "time_entry":
            placed.setdefault("time_activity" if rest == "activity" else "time_minutes", message)
        else:
            placed.setdefault("body", message)
    return placed or {"body": str(error)}


def _number(typed: str) -> int | str:
    """Whole minutes, or the text as typed (the API names what is wrong with it)."""
    try:
        return int(typed.strip())
    except ValueError:
        return typed


def router(gateway: Gateway, person: Any, show: Show) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.post("/tickets/{ticket_id}/time")
    async def log_time(
        request: Request,
        ticket_id: str,
        minutes: Annotated[str, Form()] = "",
        activity: Annotated[str, Form()] = "",
        billable: Annotated[str, Form()] = "",
        note: Annotated[str, Form()] = "",
        worked_on: Annotated[str, Form()] = "",
        corrects: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        """Time worked, logged alone; with `corrects`, an entry's correction (entries are never edited)."""
        forms.check_form_token(session, csrf_token)
        typed = {"minutes": minutes, "activity": activity, "billable": billable, "note": note,
                 "worked_on": worked_on, "corrects": corrects}  # fmt: skip
        if not minutes.strip():
            return await show(request, session, ticket_id, {"minutes": _("Say how many minutes.")}, 422, typed)
        entry = entry_of(minutes, activity, note, worked_on, billable) | ({"corrects": corrects} if corrects else {})
        try:
            await gateway.log_time(session.access_token, ticket_id, entry, form_key or forms.form_key())
        except GatewayError as error:
            return await show(request, session, ticket_id, forms.beside(error, FIELDS, "minutes"), 422, typed)
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)

    return pages
