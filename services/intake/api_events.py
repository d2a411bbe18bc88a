"""The event feed: intake's public events in store order, the source of truth to catch up from."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from schemas.envelope import Envelope
from services.intake.application import Intake
from services.intake.publication import publication


class EventPage(BaseModel):
    events: list[Envelope]
    next_after: int = Field(description="Pass as `after` to read the next page.")


def router(intake: Intake) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["events"])
    publish = publication(intake)

    @api.get("/events", response_model=EventPage)
    async def events(
        after: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> EventPage:
        """Public events after store position `after`, in store order (all tenants: an internal feed)."""
        notifications = await asyncio.to_thread(intake.recorder.select_notifications, after + 1, limit)
        envelopes = [record[1] for n in notifications if (record := publish(n)) is not None]
        return EventPage(events=envelopes, next_after=notifications[-1].id if notifications else after)

    return api
