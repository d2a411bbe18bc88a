"""Intake's part of the gateway API, assembled."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from services.intake import api_attachments, api_events, api_fields, api_history, api_tickets, api_work, problems
from services.intake.application import Intake
from services.intake.blobs import BlobStore
from services.intake.sla_status import SlaStatus


def create_app(
    app: FastAPI, intake: Intake, blobs: BlobStore, *first: APIRouter, max_upload: int, sla: SlaStatus | None = None
) -> FastAPI:
    """Mount intake's routes on `app`; `first` routers go before `/tickets/{id}` (e.g. search)."""
    problems.install(app)
    for router in first:
        app.include_router(router)
    app.include_router(api_tickets.router(intake, sla))
    for module in (api_work, api_history, api_fields, api_events):
        app.include_router(module.router(intake))
    app.include_router(api_attachments.router(intake, blobs, max_bytes=max_upload))
    return app
