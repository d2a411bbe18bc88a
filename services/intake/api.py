"""Intake's part of the gateway API, assembled."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI

from services.chassis.gateway_feed import Source
from services.intake import api_attachments, api_events, api_fields, api_history, api_tickets, api_work, problems
from services.intake.application import Intake
from services.intake.blobs import BlobStore
from services.intake.sla_status import SlaStatus


def create_app(
    app: FastAPI,
    intake: Intake,
    blobs: BlobStore,
    *first: APIRouter,
    max_upload: int,
    sla: SlaStatus | None = None,
    feeds: Sequence[Source] = (),
) -> FastAPI:
    """Mount intake's routes on `app`; `first` routers go before `/tickets/{id}` (e.g. search); `feeds`
    are the other services' event feeds, merged into the gateway's."""
    problems.install(app)
    for router in first:
        app.include_router(router)
    app.include_router(api_tickets.router(intake, sla))
    for module in (api_work, api_history, api_fields):
        app.include_router(module.router(intake))
    app.include_router(api_events.router(intake, feeds))
    app.include_router(api_attachments.router(intake, blobs, max_bytes=max_upload))
    return app
