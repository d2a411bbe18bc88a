"""Saved views of the ticket list: `/v1/views`, for the tenant's staff (a customer is refused).

A view is named filters, columns and order. Personal views are their owner's alone (anyone
else gets 404); shared ones are listed for all the tenant's staff. Any of the staff may share a
view of their own; a shared view is changed or deleted by its owner, a supervisor or an admin
(services/intake/views/domain.py). The list and the counts take a view by id
(`GET /v1/tickets?view=…`, `GET /v1/tickets/counts?view=…`).
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.tickets import Priority
from services.chassis.http import openapi
from services.chassis.http.auth import STAFF, Forbidden, Principal, Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.intake.http.tickets import TAG
from services.intake.tickets.application import Intake
from services.intake.tickets.ticket_filters import Order, TicketFilter
from services.intake.tickets.vocabulary import Status
from services.intake.views.domain import ViewRefusedError

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Column(StrEnum):
    NUMBER = "number"
    TITLE = "title"
    STATUS = "status"
    PRIORITY = "priority"
    CATEGORY = "category"
    TYPE = "type"
    CHANNEL = "channel"
    REQUESTER = "requester_id"
    GROUP = "group_id"
    AGENT = "agent_id"
    TAGS = "tags"
    CREATED = "created_at"
    UPDATED = "updated_at"
    SLA_DUE = "sla_due_at"


DEFAULT_COLUMNS = [Column.NUMBER, Column.TITLE, Column.STATUS, Column.PRIORITY, Column.GROUP, Column.AGENT]


class ViewFilters(BaseModel):
    """Every field optional; several values of one field are alternatives, the fields must all hold."""

    model_config = ConfigDict(extra="forbid")
    status: list[Status] = Field(default_factory=list, max_length=5)
    priority: list[Priority] = Field(default_factory=list, max_length=4)
    group_id: list[Name] = Field(default_factory=list, max_length=50)
    agent_id: Name | None = Field(default=None, description="An agent's id, or `me`: whoever looks at the view.")
    tag: Annotated[str, StringConstraints(pattern=TAG)] | None = None
    words: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description="Words the tickets must contain, as `GET /v1/tickets/search` takes them."
    )


class ViewSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
    shared: bool = Field(default=False, description="Listed for all the tenant's staff; otherwise the owner's only.")
    filters: ViewFilters = Field(default_factory=ViewFilters)
    columns: list[Column] = Field(default_factory=lambda: list(DEFAULT_COLUMNS), min_length=1, max_length=14)
    order: Order = Order.NEWEST


class SavedView(ViewSpec):
    id: str
    owner: str


class SavedViews(BaseModel):
    views: list[SavedView]


def view_filter(view: dict[str, Any], who: Principal) -> TicketFilter:
    """What a saved view keeps, for the person looking at it (`agent_id: me` is them)."""
    filters = view["filters"]
    agent = filters.get("agent_id")
    return TicketFilter(
        statuses=tuple(filters.get("status", ())),
        priorities=tuple(filters.get("priority", ())),
        group_ids=tuple(filters.get("group_id", ())),
        agent_id=who.subject if agent == "me" else agent,
        tag=filters.get("tag"),
        words=filters.get("words"),
    )


def router(intake: Intake) -> APIRouter:
    api = APIRouter(prefix="/v1/views", tags=["saved views"], dependencies=[requires(*STAFF)])

    def tidies(who: Principal) -> bool:
        return who.has(Role.SUPERVISOR, Role.ADMIN)

    @api.get("", response_model=SavedViews)
    async def list_views(who: CurrentIdentity) -> SavedViews:
        """The caller's own views and the shared ones, by name."""
        views = await asyncio.to_thread(intake.saved_views, who.tenant)
        return SavedViews(views=[SavedView(**view) for view in views.visible_to(who.actor)])

    @api.get("/{view_id}", response_model=SavedView, responses=openapi.problems(404))
    async def get_view(view_id: UUID, who: CurrentIdentity) -> SavedView:
        views = await asyncio.to_thread(intake.saved_views, who.tenant)
        return SavedView(**views.view(str(view_id), who.actor))

    @api.put(
        "/{view_id}",
        response_model=SavedView,
        status_code=200,
        responses=openapi.problems(403, 404) | {201: {"description": "A new view.", "model": SavedView}},
    )
    async def save_view(view_id: UUID, body: ViewSpec, who: CurrentIdentity, response: Response) -> SavedView:
        """Save a view under an id the client chose (a new one: 201), or change it (200): the owner may change
        their own; a shared view also a supervisor or admin (403 for others); someone else's personal view
        is not there (404). Recorded with the caller as actor."""
        spec = body.model_dump(mode="json")
        try:
            created = await asyncio.to_thread(
                intake.save_view, who.tenant, str(view_id), spec, who.actor, tidies=tidies(who.principal)
            )
        except ViewRefusedError as refused:
            raise Forbidden(str(refused), rule="view-owner") from None
        response.status_code = 201 if created else 200
        views = await asyncio.to_thread(intake.saved_views, who.tenant)
        return SavedView(**views.view(str(view_id), who.actor))

    @api.delete("/{view_id}", status_code=204, responses=openapi.problems(403, 404))
    async def delete_view(view_id: UUID, who: CurrentIdentity) -> Response:
        """Delete a view (the same rule as changing it)."""
        try:
            await asyncio.to_thread(
                intake.delete_view, who.tenant, str(view_id), who.actor, tidies=tidies(who.principal)
            )
        except ViewRefusedError as refused:
            raise Forbidden(str(refused), rule="view-owner") from None
        return Response(status_code=204)

    return api
