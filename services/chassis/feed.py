"""A service's HTTP event feed (serving and reading it): the source of truth to rebuild or catch up from."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
from eventsourcing.application import Application
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from schemas.envelope import Envelope
from services.chassis.relay import Publication


class EventPage(BaseModel):
    events: list[Envelope]
    next_after: int = Field(description="Pass as `after` to read the next page.")


def feed_router(app: Application[Any], publication: Publication) -> APIRouter:
    """`GET /v1/events`: the public events of `app`'s store, as the relay publishes them."""
    api = APIRouter(prefix="/v1", tags=["events"])

    @api.get("/events", response_model=EventPage)
    async def events(
        after: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> EventPage:
        """Public events after store position `after`, in store order (all tenants: an internal feed)."""
        notifications = await asyncio.to_thread(app.recorder.select_notifications, after + 1, limit)
        envelopes = [record[1] for n in notifications if (record := publication(n)) is not None]
        return EventPage(events=envelopes, next_after=notifications[-1].id if notifications else after)

    return api


def read_feed(base_url: str, after: int = 0, page_size: int = 500) -> Iterator[Envelope]:
    """Every public event after store position `after`, in store order."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        while True:
            response = client.get("/v1/events", params={"after": after, "limit": page_size})
            response.raise_for_status()
            page = response.json()
            for raw in page["events"]:
                yield Envelope.model_validate(raw)
            if page["next_after"] == after:
                return
            after = page["next_after"]
