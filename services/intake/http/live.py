"""A ticket live: its stream of changes (Server-Sent Events) and who of the staff has it open (collision)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from services.chassis.http import openapi
from services.chassis.http.auth import Role
from services.chassis.http.feed import server_sent_events
from services.chassis.http.identity import CurrentIdentity, requires
from services.intake.tickets.access import Scope, visible_ticket
from services.intake.tickets.application import Intake
from services.intake.tickets.live import Seen, TicketLive, ViewerView
from services.intake.tickets.sla_status import SlaStatus
from services.intake.tickets.viewers import Viewers

STREAM = (
    "Server-Sent Events: `id` (the ticket's version after the event: a reconnecting client's `Last-Event-ID`"
    " resumes there), `event` (the type: `ticket.<event>`, `sla.warning`, `sla.breached`, `sla.changed`,"
    " `viewers`), `data` (a `LiveEvent` as JSON); `: still here` comments between."
)
STAFF = requires(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


class Beat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activity: Literal["viewing", "replying"] = Field(description="`replying`: writing in the ticket's reply box.")
    name: str | None = Field(
        None, min_length=1, max_length=100, description="How to name the caller; the token's `name` claim wins."
    )


class ViewersView(BaseModel):
    viewers: list[ViewerView] = Field(description="The staff who have the ticket open now; none for a customer.")


def router(intake: Intake, sla: SlaStatus | None, viewers: Viewers) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["live"])
    live = TicketLive(intake, sla, viewers)

    @api.get(
        "/tickets/{ticket_id}/stream",
        response_class=StreamingResponse,
        responses=openapi.media(200, "text/event-stream", STREAM, openapi.SERVER_SENT_EVENT),
    )
    async def stream(
        ticket_id: UUID,
        who: CurrentIdentity,
        after: Annotated[int, Query(ge=0, description="The ticket's version shown: events after it.")] = 0,
        last_event_id: Annotated[int | None, Header(ge=0)] = None,
    ) -> StreamingResponse:
        """The ticket live, for anyone who may see it, with what they may see of it (a customer: no
        internal note): each new event in the history's words (routing's assignment among them), its SLA
        state when sla warns, breaches or moves a target, and (staff) who has it open, within a second.
        The SLA state and the viewers come first, as they are now; the stream ends once the caller may
        no longer see the ticket."""
        ticket = await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        start = Seen(min(max(after, last_event_id or 0), ticket.version))

        return server_sent_events(lambda seen: live.read(ticket_id, who.principal, seen), start, retry_ms=1000)

    @api.get("/tickets/{ticket_id}/viewers", response_model=ViewersView)
    async def who_views(ticket_id: UUID, who: CurrentIdentity) -> ViewersView:
        """Who of the staff has the ticket open now, and who is replying (a customer: nobody)."""
        await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        if not Scope.of(who.principal).staff:
            return ViewersView(viewers=[])
        found = await asyncio.to_thread(viewers.of, who.tenant, ticket_id)
        return ViewersView(viewers=[ViewerView(subject=v.subject, name=v.name, activity=v.activity) for v in found])

    @api.put("/tickets/{ticket_id}/viewers/me", status_code=204, dependencies=[STAFF])
    async def beat(ticket_id: UUID, body: Beat, who: CurrentIdentity) -> Response:
        """The caller has the ticket open (or is replying), for the next few seconds: send it every two
        or three seconds while the page is open; without a beat the caller is gone after six."""
        await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        claimed = who.principal.claims.get("name")
        name = claimed if isinstance(claimed, str) and claimed else body.name or who.principal.subject
        await asyncio.to_thread(viewers.beat, who.tenant, ticket_id, who.principal.subject, name, body.activity)
        return Response(status_code=204)

    @api.delete("/tickets/{ticket_id}/viewers/me", status_code=204, dependencies=[STAFF])
    async def leave(ticket_id: UUID, who: CurrentIdentity) -> Response:
        """The caller closed the ticket: gone at once, not only when the beat stops."""
        await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        await asyncio.to_thread(viewers.leave, who.tenant, ticket_id, who.principal.subject)
        return Response(status_code=204)

    return api
