"""Intake's part of the gateway API, assembled."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from services.chassis.http.feed_sources import Source
from services.intake.attachments.blob_store import BlobStore
from services.intake.http import attachments as api_attachments
from services.intake.http import events as api_events
from services.intake.http import fields as api_fields
from services.intake.http import history as api_history
from services.intake.http import macros as api_macros
from services.intake.http import problems
from services.intake.http import tickets as api_tickets
from services.intake.http import time_entries as api_time
from services.intake.http import work as api_work
from services.intake.macros.applying import MacroDesk
from services.intake.tickets.application import Intake
from services.intake.tickets.sla_status import SlaStatus

# What most requests ask for: matched before the gateway's many other routes (Starlette tries them in order, and
# FastAPI matches an included router's routes twice), without moving them in the document.
HOT = frozenset(
    {("POST", "/v1/tickets"), ("GET", "/v1/tickets/{ticket_id}"), ("POST", "/v1/tickets/{ticket_id}/comments")}
)


def create_app(
    app: FastAPI,
    intake: Intake,
    blobs: BlobStore,
    *first: APIRouter,
    max_upload: int,
    early: Sequence[APIRouter] = (),
    sla: SlaStatus | None = None,
    feeds: Sequence[Source] = (),
    last: Sequence[APIRouter] = (),
    macros: MacroDesk | None = None,
) -> FastAPI:
    """Mount intake's routes on `app`; `first` routers go before `/tickets/{id}` (e.g. search), `early` ones
    after the hot routes' first match (none of theirs may match what a hot route does) and before the rest, `last`
        after all; `macros` renders macros for tickets (one without the requesters' languages, the mailboxes and
    the portal by default); `feeds` are the other services' event feeds, merged into the gateway's. The one place
        that mounts intake's routers (gateway.py chooses them for the service)."""
    problems.install(app)
    for router in first:
        app.include_router(router)
    tickets, work = api_tickets.router(intake, sla), api_work.router(intake)
    app.include_router(hot_routes(tickets, work), include_in_schema=False)
    for router in early:
        app.include_router(router)
    app.include_router(tickets)
    app.include_router(work)
    for module in (api_history, api_fields, api_time):
        app.include_router(module.router(intake))
    app.include_router(api_time.activity_types_router(intake))
    app.include_router(api_macros.router(intake, macros or MacroDesk(intake, sla)))
    app.include_router(api_events.router(intake, feeds))
    app.include_router(api_attachments.router(intake, blobs, max_bytes=max_upload))
    for router in last:
        app.include_router(router)
    return app


def hot_routes(*routers: APIRouter) -> APIRouter:
    """The `HOT` routes of `routers`, the same route objects (their dependencies, models and answers), to be
    matched again ahead of where the routers are mounted; the document lists them there only."""
    hot = APIRouter()
    hot.routes.extend(
        route
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and any((method, route.path) in HOT for method in route.methods or ())
    )
    return hot
