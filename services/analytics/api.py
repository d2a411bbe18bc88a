"""Analytics' part of the gateway API: reports."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, FastAPI

from services.analytics.projections import BacklogProjection
from services.chassis.identity import CurrentIdentity


def router(backlog: BacklogProjection) -> APIRouter:
    api = APIRouter(prefix="/v1/reports", tags=["reports"])

    @api.get("/backlog")
    async def get_backlog(who: CurrentIdentity) -> dict[str, Any]:
        """The tenant's open tickets, in total and by status, priority, category, channel and type."""
        return await asyncio.to_thread(backlog.backlog, who.tenant)

    @api.get("/flow")
    async def get_flow(who: CurrentIdentity) -> dict[str, Any]:
        """Tickets the tenant opened per day (UTC)."""
        return {"tenant": who.tenant, "days": await asyncio.to_thread(backlog.flow, who.tenant)}

    return api


def create_app(app: FastAPI, backlog: BacklogProjection) -> FastAPI:
    app.include_router(router(backlog))
    return app
