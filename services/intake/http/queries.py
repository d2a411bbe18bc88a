"""Queries on the ticket read model: the filtered, paged list and full-text search.

Both read the projection, which trails the store by a moment; a client that just
wrote passes the `position` it got back as `min_position` to read its own write.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from schemas.tickets import Priority
from services.chassis.http.identity import CurrentIdentity
from services.chassis.http.problems import DomainProblem
from services.intake.http.tickets import TAG
from services.intake.tickets.access import Scope
from services.intake.tickets.application import Intake
from services.intake.tickets.cursors import InvalidCursorError
from services.intake.tickets.projections import TicketsProjection
from services.intake.tickets.vocabulary import Status

WAIT_SECONDS = 2.0

Id = Annotated[str | None, Query(min_length=1, max_length=200)]
MinPosition = Annotated[
    int | None,
    Query(ge=1, description="Wait (up to 2 s) until the list includes this store position (from a write's answer)."),
]


class TicketSummary(BaseModel):
    id: UUID
    tenant: str
    number: str
    title: str
    status: str
    priority: str
    category: str
    type: str
    channel: str
    requester_id: str
    group_id: str | None
    agent_id: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


class TicketPage(BaseModel):
    tickets: list[TicketSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class TicketHit(TicketSummary):
    rank: float = Field(description="Relevance: higher is better (title above description above comments).")


class SearchResults(BaseModel):
    tickets: list[TicketHit]


class InvalidQuery(DomainProblem):
    status = 422
    title = "Invalid request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"invalid field(s): {field}", errors=[{"field": field, "message": message, "type": "value"}])


class ProjectionBehind(DomainProblem):
    status = 503
    title = "Projection behind"


def router(intake: Intake, projection: TicketsProjection) -> APIRouter:
    """GET /v1/tickets/search and GET /v1/tickets (search first, so it is never taken for a ticket id)."""
    api = APIRouter(prefix="/v1", tags=["tickets"])

    async def caught_up(min_position: int | None) -> None:
        """Return once the view has applied `min_position`; refuse a position the store never had."""
        if min_position is None or await asyncio.to_thread(projection.position) >= min_position:
            return
        if min_position > (await asyncio.to_thread(intake.recorder.max_notification_id) or 0):
            raise InvalidQuery("min_position", "no event was stored at this position")
        deadline = time.monotonic() + WAIT_SECONDS
        pause = 0.005
        while await asyncio.to_thread(projection.position) < min_position:
            if time.monotonic() >= deadline:
                raise ProjectionBehind(
                    f"the ticket list has not reached position {min_position} yet; retry shortly",
                    min_position=min_position,
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)

    @api.get("/tickets/search", response_model=SearchResults)
    async def search_tickets(
        who: CurrentIdentity,
        q: Annotated[str, Query(min_length=1, max_length=500, description='Words to find; "quoted phrase".')],
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        min_position: MinPosition = None,
    ) -> SearchResults:
        """The tenant's tickets whose title, description or comments match `q`, best first. A customer
        searches the public text only (title, description, public replies), never the internal notes."""
        await caught_up(min_position)
        scope = Scope.of(who.principal)
        # Found first, then kept if the caller may see them: fetch more so a page stays full.
        wanted = limit if scope.everything else min(limit * 5, 500)
        found = await asyncio.to_thread(projection.search, who.tenant, q, wanted, public_only=not scope.staff)
        rows = [row for row in found if scope.admits(row)]
        return SearchResults(tickets=[TicketHit(**_summary(row)) for row in rows[:limit]])

    @api.get("/tickets", response_model=TicketPage)
    async def list_tickets(
        who: CurrentIdentity,
        status: Status | None = None,
        priority: Priority | None = None,
        group_id: Id = None,
        agent_id: Id = None,
        requester_id: Id = None,
        tag: Annotated[str | None, Query(pattern=TAG)] = None,
        number: Annotated[
            str | None, Query(min_length=1, max_length=40, description="The ticket's number (`SD-2026-000123`).")
        ] = None,
        created_from: Annotated[datetime | None, Query(description="Opened at or after (inclusive).")] = None,
        created_to: Annotated[datetime | None, Query(description="Opened before (exclusive).")] = None,
        cursor: Annotated[str | None, Query(max_length=1000)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        min_position: MinPosition = None,
    ) -> TicketPage:
        """The tenant's tickets, newest first, filtered; page on with `next_cursor`."""
        if created_from is not None and created_to is not None and _aware(created_from) > _aware(created_to):
            raise InvalidQuery("created_to", "must not be before created_from")
        await caught_up(min_position)
        try:
            rows, next_cursor = await asyncio.to_thread(
                projection.list_tickets,
                who.tenant,
                status=status and status.value,
                priority=priority and priority.value,
                group_id=group_id,
                agent_id=agent_id,
                requester_id=requester_id,
                tag=tag,
                number=number,
                created_from=created_from,
                created_to=created_to,
                cursor=cursor,
                limit=limit,
                scope=Scope.of(who.principal).sql(),
            )
        except InvalidCursorError:
            raise InvalidQuery("cursor", "not a cursor this list handed out") from None
        return TicketPage(tickets=[TicketSummary(**_summary(row)) for row in rows], next_cursor=next_cursor)

    return api


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in ("ticket_id", "position")} | {"id": row["ticket_id"]}


def _aware(value: datetime) -> datetime:
    """Comparable whether or not the client gave a zone (a missing zone means UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
