"""Intake's part of the gateway API: tickets, and the event feed."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, FastAPI, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from schemas.envelope import Envelope
from schemas.tickets import Channel, Priority, TicketType
from services.chassis.identity import CurrentIdentity
from services.chassis.problems import DomainProblem
from services.intake.application import Cause, Intake, TicketForm, TicketNotFoundError
from services.intake.domain import Ticket
from services.intake.publication import publication

TAG = r"^[a-z0-9][a-z0-9_.:-]{0,49}$"


class OpenTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    requester_id: str = Field(min_length=1, max_length=200)
    channel: Channel = Channel.API
    category: str = Field(default="general", min_length=1, max_length=64)
    type: TicketType = TicketType.REQUEST
    priority: Priority = Priority.P3
    tags: list[Annotated[str, Field(pattern=TAG)]] = Field(default_factory=list, max_length=20)


class TicketView(BaseModel):
    id: UUID
    number: str
    tenant: str
    status: str
    title: str
    requester_id: str
    channel: str
    category: str
    type: str
    priority: str
    tags: list[str]
    version: int


class OpenedTicketView(BaseModel):
    id: UUID
    number: str
    status: str
    position: int | None = Field(
        description="Store position of the TicketOpened event (read-your-writes); null on a replayed request."
    )


class EventPage(BaseModel):
    events: list[Envelope]
    next_after: int = Field(description="Pass as `after` to read the next page.")


class TicketNotFound(DomainProblem):
    status = 404
    title = "Ticket not found"


def router(intake: Intake) -> APIRouter:
    api = APIRouter(prefix="/v1")
    publish = publication(intake)

    @api.post("/tickets", status_code=201, response_model=OpenedTicketView, tags=["tickets"])
    async def open_ticket(
        body: OpenTicket,
        who: CurrentIdentity,
        response: Response,
        idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
    ) -> OpenedTicketView:
        """Open a ticket. With an `Idempotency-Key`, a retried request returns the ticket it opened (200)."""
        ticket_id = Ticket.id_for_request(who.tenant, idempotency_key) if idempotency_key else uuid4()
        form = TicketForm(**body.model_dump(mode="json"))
        cause = Cause(who.tenant, who.actor, who.correlation_id, f"http:{uuid4()}", who.traceparent)
        opened = await asyncio.to_thread(intake.open_ticket, ticket_id, form, cause)
        ticket = opened.ticket
        response.status_code = 201 if opened.created else 200
        response.headers["Location"] = f"/v1/tickets/{ticket.id}"
        return OpenedTicketView(id=ticket.id, number=ticket.number, status=ticket.status, position=opened.position)

    @api.get("/tickets/{ticket_id}", response_model=TicketView, tags=["tickets"])
    async def get_ticket(ticket_id: UUID, who: CurrentIdentity) -> TicketView:
        try:
            ticket = await asyncio.to_thread(intake.get_ticket, ticket_id, who.tenant)
        except TicketNotFoundError:
            raise TicketNotFound(
                f"no ticket {ticket_id} for tenant {who.tenant}",
                ticket_id=str(ticket_id),
            ) from None
        return TicketView(id=ticket.id, version=ticket.version, **_public_state(ticket.__dict__))

    @api.get("/events", response_model=EventPage, tags=["events"])
    async def events(
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> EventPage:
        """The store's public events in store order: the source of truth to catch up from."""
        notifications = await asyncio.to_thread(intake.recorder.select_notifications, after + 1, limit)
        envelopes = [record[1] for n in notifications if (record := publish(n)) is not None]
        return EventPage(
            events=envelopes,
            next_after=notifications[-1].id if notifications else after,
        )

    return api


def _public_state(state: dict[str, object]) -> dict[str, object]:
    fields = TicketView.model_fields.keys() - {"id", "version"}
    return {name: state[name] for name in fields}


def create_app(app: FastAPI, intake: Intake) -> FastAPI:
    app.include_router(router(intake))
    return app
