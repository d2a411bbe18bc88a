"""Time accounting over HTTP: time entries on a ticket (logged alone here, or with a reply: work.py), and the
tenant's activity types. The staff's alone: a customer is refused (403), as for every staff action."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Path
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.chassis.http import openapi
from services.chassis.http.auth import Role
from services.chassis.http.etag import etag, expected_version
from services.chassis.http.identity import CurrentIdentity, requires
from services.chassis.http.request_keys import IdempotencyKey
from services.intake.http.common import IfMatch, cause_of
from services.intake.tickets.access import visible_ticket
from services.intake.tickets.application import Intake
from services.intake.tickets.commands import TimeEntry
from services.intake.tickets.errors import TimeEntryError
from services.intake.tickets.time_accounting import TimeSheet

KEY = r"^[a-z][a-z0-9_-]{0,39}$"
_LATEST_ZONE = timedelta(hours=14)  # UTC+14: a day is not in the future while it has begun somewhere


class LogTime(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: int = Field(
        ge=0, le=1440, description="Minutes worked (more than 0); 0 only on a correction, which withdraws the entry."
    )
    activity: str = Field(min_length=1, max_length=40, description="One of the tenant's activity types.")
    billable: bool | None = Field(default=None, description="Default: the activity type's.")
    note: str = Field(default="", max_length=5000, description="What the time went to (sealed: personal data).")
    worked_on: date | None = Field(default=None, description="The day worked, not in the future; default today (UTC).")
    corrects: str | None = Field(
        default=None,
        max_length=40,
        description="A correction: the entry this one replaces (its minutes, activity, billable and day count "
        "instead). Entries are never edited.",
    )

    def entry(self, where: tuple[str, ...] = ()) -> TimeEntry:
        """The command's entry, with a new id; 422 naming `worked_on` (under `where`) for a day to come."""
        worked_on = self.worked_on or datetime.now(UTC).date()
        if worked_on > (datetime.now(UTC) + _LATEST_ZONE).date():
            message = "Value error, must not be in the future: time is logged for work done"
            error = {"loc": ("body", *where, "worked_on"), "msg": message, "type": "value_error"}
            raise RequestValidationError([error])
        entry_id = f"t-{uuid4().hex[:12]}"
        return TimeEntry(entry_id, self.minutes, self.activity, worked_on, self.note, self.billable, self.corrects)


class DefineActivityType(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=100)
    billable: bool = Field(default=True, description="Whether its entries are billable unless they say otherwise.")


def naming(where: str, error: TimeEntryError) -> TimeEntryError:
    """The error with its field named under `where` (the reply's `time_entry`)."""
    return TimeEntryError(f"{where}.{error.field}", error.message)


def router(intake: Intake) -> APIRouter:
    async def guard(ticket_id: Annotated[UUID, Path()], who: CurrentIdentity) -> None:
        await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal, "read or log time on")

    api = APIRouter(
        prefix="/v1/tickets/{ticket_id}/time-entries",
        tags=["time accounting"],
        dependencies=[Depends(guard)],
        responses=openapi.problems(403, 404, 410, 412, 422),
    )

    @api.get("")
    async def time_sheet(ticket_id: Annotated[UUID, Path()], who: CurrentIdentity) -> TimeSheet:
        """The ticket's time entries, oldest first, and the minutes (and billable minutes) that count: an entry
        corrected by a later one no longer does."""
        ticket = await asyncio.to_thread(intake.get_ticket, ticket_id, who.tenant)
        return intake.time_sheet(ticket)

    @api.post("", status_code=201)
    async def log_time(
        ticket_id: Annotated[UUID, Path()],
        body: LogTime,
        who: CurrentIdentity,
        keyed: IdempotencyKey,
        if_match: IfMatch = None,
    ) -> JSONResponse:
        """Log time worked on the ticket, or correct an entry with a new one (`corrects`). A bad entry is 422
        naming its field: minutes, activity (not one of the tenant's), worked_on (in the future), corrects."""
        entry = body.entry()
        version = expected_version(if_match)
        ticket = await asyncio.to_thread(intake.log_time, ticket_id, cause_of(who, keyed), entry, version)
        sheet = intake.time_sheet(ticket)
        return JSONResponse(sheet.model_dump(mode="json"), status_code=201, headers={"ETag": etag(ticket.version)})

    return api


def activity_types_router(intake: Intake) -> APIRouter:
    api = APIRouter(prefix="/v1/time-activity-types", tags=["time accounting"])

    @api.get("", dependencies=[requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)])
    async def list_types(who: CurrentIdentity) -> dict[str, Any]:
        """The tenant's activity types a time entry may name, each with its label and billable default."""
        return {"activity_types": await asyncio.to_thread(intake.activity_types_of, who.tenant)}

    @api.put("/{key}", dependencies=[requires(Role.ADMIN)])
    async def define(who: CurrentIdentity, body: DefineActivityType, key: str = Path(pattern=KEY)) -> dict[str, Any]:
        """Define (or redefine) an activity type (admins only)."""
        types = await asyncio.to_thread(
            intake.define_activity_type, who.tenant, key, body.label, body.billable, who.actor
        )
        return {"activity_types": types.active()}

    @api.delete("/{key}", dependencies=[requires(Role.ADMIN)])
    async def retire(who: CurrentIdentity, key: str = Path(pattern=KEY)) -> dict[str, Any]:
        """Retire an activity type (admins only): entries logged with it keep it, new ones cannot name it."""
        types = await asyncio.to_thread(intake.retire_activity_type, who.tenant, key, who.actor)
        return {"activity_types": types.active()}

    return api
