"""Queries on the ticket read model: the filtered, paged list and full-text search.

Both read the projection, which trails the store by a moment; a client that just
wrote passes the `position` it got back as `min_position` to read its own write.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from schemas.tickets import Channel, Priority
from services.chassis.http.auth import STAFF, Principal
from services.chassis.http.identity import CurrentIdentity, requires
from services.chassis.http.problems import DomainProblem
from services.chassis.runtime.errors import UnknownThingError
from services.chassis.storage.catching_up import ViewBehind, view_reaches
from services.intake.http.tickets import TAG
from services.intake.http.views import view_filter
from services.intake.tickets.access import Scope
from services.intake.tickets.application import Intake
from services.intake.tickets.cursors import InvalidCursorError
from services.intake.tickets.projections import TicketsProjection
from services.intake.tickets.queues import QueueName, queue_filter
from services.intake.tickets.ticket_filters import Order, TicketFilter
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
    sla_due_at: datetime | None = Field(
        default=None, description="The nearest due instant of the ticket's running SLA clocks; null when none runs."
    )


class TicketPage(BaseModel):
    tickets: list[TicketSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class TicketCounts(BaseModel):
    queues: dict[str, int] = Field(description="Per named queue asked for: how many tickets it holds.")
    views: dict[str, int] = Field(description="Per saved view asked for (by id): how many tickets it holds.")


class TicketHit(TicketSummary):
    rank: float = Field(description="Relevance: higher is better (title above description above comments).")


class SearchResults(BaseModel):
    tickets: list[TicketHit]


class InvalidQuery(DomainProblem):
    status = 422
    title = "Invalid request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"invalid field(s): {field}", errors=[{"field": field, "message": message, "type": "value"}])


class ProjectionBehind(ViewBehind):
    title = "Projection behind"


def router(intake: Intake, projection: TicketsProjection) -> APIRouter:
    """GET /v1/tickets/search, /v1/tickets/counts and /v1/tickets (the first two before `/tickets/{id}`, so
    neither is ever taken for a ticket id)."""
    api = APIRouter(prefix="/v1", tags=["tickets"])

    async def caught_up(min_position: int | None) -> None:
        """Return once the view has applied `min_position`; refuse a position the store never had."""
        if min_position is None or await asyncio.to_thread(projection.position) >= min_position:
            return
        if min_position > (await asyncio.to_thread(intake.recorder.max_notification_id) or 0):
            raise InvalidQuery("min_position", "no event was stored at this position")
        await view_reaches(
            projection.position,
            min_position,
            WAIT_SECONDS,
            "the ticket list",
            ProjectionBehind,
            min_position=min_position,
        )

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
        return SearchResults(tickets=[TicketHit(**summary_of(row)) for row in rows[:limit]])

    def saved_filter(view_id: UUID, who: Principal) -> TicketFilter:
        """A saved view's filter for `who`; a view they may not see (or none) is named as the field at fault."""
        views = intake.saved_views(who.tenant)
        try:
            return view_filter(views.view(str(view_id), who.subject), who)
        except UnknownThingError:
            raise InvalidQuery("view", "no saved view with this id for you") from None

    @api.get("/tickets/counts", response_model=TicketCounts, dependencies=[requires(*STAFF)])
    async def count_tickets(
        who: CurrentIdentity,
        queue: Annotated[list[QueueName], Query(max_length=10, description="Named queues to count.")] = [],  # noqa: B006
        view: Annotated[list[UUID], Query(max_length=50, description="Saved views to count, by id.")] = [],  # noqa: B006
        min_position: MinPosition = None,
    ) -> TicketCounts:
        """How many tickets each named queue and saved view holds of those the caller may see: the number of
        rows `GET /v1/tickets?queue=…` (or `?view=…`) pages through. Staff only."""
        await caught_up(min_position)
        chosen = {f"queue:{name.value}": queue_filter(name, who.principal) for name in queue}
        for view_id in view:
            chosen[f"view:{view_id}"] = await asyncio.to_thread(saved_filter, view_id, who.principal)
        scope = Scope.of(who.principal).sql()
        counted = await asyncio.to_thread(projection.count_tickets, who.tenant, chosen, scope)
        return TicketCounts(
            queues={key.split(":", 1)[1]: n for key, n in counted.items() if key.startswith("queue:")},
            views={key.split(":", 1)[1]: n for key, n in counted.items() if key.startswith("view:")},
        )

    @api.get("/tickets", response_model=TicketPage)
    async def list_tickets(
        who: CurrentIdentity,
        status: Annotated[list[Status], Query(max_length=5, description="One or several (either).")] = [],  # noqa: B006
        priority: Annotated[list[Priority], Query(max_length=4, description="One or several (either).")] = [],  # noqa: B006
        group_id: Annotated[list[str], Query(max_length=50, description="One or several groups (either).")] = [],  # noqa: B006
        agent_id: Id = None,
        unassigned: Annotated[bool, Query(description="Only tickets no agent has.")] = False,
        requester_id: Id = None,
        tag: Annotated[str | None, Query(pattern=TAG)] = None,
        channel: Channel | None = None,
        q: Annotated[
            str | None, Query(min_length=1, max_length=500, description="Words, as search takes them.")
        ] = None,
        sla_running: Annotated[bool, Query(description="Only tickets whose SLA clock runs.")] = False,
        queue: Annotated[
            QueueName | None, Query(description="A named queue (the caller's): mine, my_groups, …")
        ] = None,
        view: Annotated[UUID | None, Query(description="A saved view's filters (`/v1/views`).")] = None,
        number: Annotated[
            str | None, Query(min_length=1, max_length=40, description="The ticket's number (`SD-2026-000123`).")
        ] = None,
        created_from: Annotated[datetime | None, Query(description="Opened at or after (inclusive).")] = None,
        created_to: Annotated[datetime | None, Query(description="Opened before (exclusive).")] = None,
        order: Annotated[Order, Query(description="`-` descending; `sla_due_at`: running clocks, nearest first.")] = (
            Order.NEWEST
        ),
        cursor: Annotated[str | None, Query(max_length=1000)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        min_position: MinPosition = None,
    ) -> TicketPage:
        """The tenant's tickets the caller may see, newest first unless `order` says otherwise, filtered (a named
        `queue`, a saved `view` and the other filters all hold at once); page on with `next_cursor`. Each row
        carries `sla_due_at`, the nearest due instant of its running SLA clocks."""
        if created_from is not None and created_to is not None and _aware(created_from) > _aware(created_to):
            raise InvalidQuery("created_to", "must not be before created_from")
        if any(not 1 <= len(group) <= 200 for group in group_id):
            raise InvalidQuery("group_id", "a group id is 1 to 200 characters")
        await caught_up(min_position)
        scope = Scope.of(who.principal)
        if not scope.staff and requester_id in scope.requesters:  # a customer's own: as a person and by their token
            scope, requester_id = scope.own(), None
        where = queue_filter(queue, who.principal) if queue is not None else TicketFilter()
        if view is not None:
            where = where.narrowed(await asyncio.to_thread(saved_filter, view, who.principal))
        asked = TicketFilter(
            statuses=tuple(s.value for s in status), priorities=tuple(p.value for p in priority),
            group_ids=tuple(group_id), agent_id=agent_id, unassigned=unassigned, requester_id=requester_id, tag=tag,
            channel=channel and channel.value, number=number, words=q, sla_running=sla_running,
            created_from=created_from, created_to=created_to,
        )  # fmt: skip
        try:
            rows, next_cursor = await asyncio.to_thread(
                projection.list_tickets,
                who.tenant,
                where.narrowed(asked),
                order=order,
                cursor=cursor,
                limit=limit,
                scope=scope.sql(),
            )
        except InvalidCursorError:
            raise InvalidQuery("cursor", "not a cursor this list handed out") from None
        return TicketPage(tickets=[TicketSummary(**summary_of(row)) for row in rows], next_cursor=next_cursor)

    return api


def summary_of(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in ("ticket_id", "position")} | {"id": row["ticket_id"]}


def _aware(value: datetime) -> datetime:
    """Comparable whether or not the client gave a zone (a missing zone means UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
