"""Opening tickets and reading one, now or as it was at any past instant."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.tickets import Channel, Priority, TicketType
from services.chassis.http import openapi
from services.chassis.http.identity import CurrentIdentity
from services.chassis.http.request_keys import IdempotencyKey
from services.chassis.runtime.thread_batches import ThreadBatches
from services.intake.http.common import cause_of, ticket_response
from services.intake.tickets.access import Scope, visible_ticket
from services.intake.tickets.application import Intake
from services.intake.tickets.form import TicketForm
from services.intake.tickets.opening import TicketRequest
from services.intake.tickets.representations import TicketView
from services.intake.tickets.sla_status import SlaStatus

TAG = r"^[a-z0-9][a-z0-9_.:-]{0,49}$"
Tag = Annotated[str, Field(pattern=TAG)]


class OpenTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    requester_id: str = Field(min_length=1, max_length=200)
    organisation: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The requester's organisation (by default, theirs in `/v1/people`); routing rules match it. An"
        " organisation's id (`/v1/organisations`) brings its own SLA policy and calendar to the ticket's clock.",
    )
    channel: Channel = Channel.API
    category: str = Field(default="general", min_length=1, max_length=64)
    type: TicketType = TicketType.REQUEST
    priority: Priority = Priority.P3
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    custom_fields: dict[str, Any] = Field(default_factory=dict, description="Checked against the tenant's fields.")
    follow_up_of: UUID | None = Field(default=None, description="The (closed) ticket this one follows up.")
    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2}$",
        description="The ticket's language (ISO 639-1: `en`, `ru`); triggers match it.",
    )


class OpenedTicketView(TicketView):
    position: int | None = Field(
        description="Store position of TicketOpened (read-your-writes); null on a replayed request."
    )


def router(intake: Intake, sla: SlaStatus | None = None) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["tickets"])
    openings = ThreadBatches(intake.open_tickets)  # the openings asked for at once: one thread hop, one commit

    @api.post(
        "/tickets",
        status_code=201,
        response_model=OpenedTicketView,
        responses=openapi.problems(410)
        | {200: {"model": OpenedTicketView, "description": "Opened before with this Idempotency-Key."}},
    )
    async def open_ticket(
        body: OpenTicket,
        who: CurrentIdentity,
        keyed: IdempotencyKey,
    ) -> JSONResponse:
        """Open a ticket. With an `Idempotency-Key`, a retried request returns the ticket it opened (200),
        as a GET would show it now."""
        fields = body.model_dump(mode="json", exclude={"follow_up_of"})
        if not (scope := Scope.of(who.principal)).staff:  # a customer opens tickets for themself, of their organisation
            requester, organisation = scope.opened_as()
            fields |= {"requester_id": requester, "organisation": organisation}
        form = TicketForm(**fields)
        opened = await openings(TicketRequest(None, form, cause_of(who, keyed), body.follow_up_of))
        if not opened.created:  # a replay answers as a GET would: the caller may no longer see it
            await asyncio.to_thread(visible_ticket, intake, opened.ticket.id, who.principal)
        status = 201 if opened.created else 200
        extra = {"position": opened.position}
        view = intake.view(opened.ticket, public_only=not Scope.of(who.principal).staff)
        return ticket_response(view, status, extra=extra, location=True)

    @api.get("/tickets/{ticket_id}", response_model=TicketView)
    async def get_ticket(
        ticket_id: UUID,
        who: CurrentIdentity,
        as_of: Annotated[
            AwareDatetime | None, Query(description="The ticket exactly as it was at this instant (ISO 8601).")
        ] = None,
    ) -> JSONResponse:
        """The ticket now (with its SLA targets as the SLA service last published them), or as of an instant."""
        current = await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        public_only = not Scope.of(who.principal).staff
        if as_of is None:
            targets = await asyncio.to_thread(sla.of, who.tenant, ticket_id) if sla is not None else {}
            return ticket_response(intake.view(current, public_only=public_only), extra={"sla": targets})
        view = await asyncio.to_thread(intake.view_as_of, ticket_id, who.tenant, as_of, public_only=public_only)
        return ticket_response(view)

    return api
