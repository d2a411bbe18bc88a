"""The sources the gateway's event feed reads (gateway_feed.py): its own service's feed in process,
and another service's `/v1/events`, asked for the caller with the gateway's internal token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx
from pydantic import ValidationError

from services.chassis.http.auth import Principal
from services.chassis.http.feed import EventPage, Feed
from services.chassis.http.identity import Identity
from services.chassis.http.problems import DomainProblem

REMOTE_GRACE_SECONDS = 5.0  # a source's answer may take this much longer than the wait asked of it


class SourceDown(DomainProblem):
    status = 503
    title = "Service unavailable"


class Source(Protocol):
    name: str

    async def page(self, after: int, limit: int, who: Identity, types: set[str], wait: float) -> EventPage:
        """The tenant's events after `after` in the source's order; SourceDown when it does not answer."""


@dataclass
class LocalSource:
    """The gateway's own service's feed, read in process."""

    name: str
    feed: Feed

    async def page(self, after: int, limit: int, who: Identity, types: set[str], wait: float) -> EventPage:
        return await self.feed.wait_for_page(after, limit, who.tenant, types, wait)


@dataclass
class RemoteSource:
    """Another service's `/v1/events`, asked for the caller with the gateway's internal token."""

    name: str
    url: str
    client: httpx.AsyncClient
    mint: Callable[[Principal], str]  # the gateway's internal token for a principal

    async def page(self, after: int, limit: int, who: Identity, types: set[str], wait: float) -> EventPage:
        params: dict[str, str | int | float] = {"after": after, "limit": limit, "wait": wait}
        if types:
            params["types"] = ",".join(sorted(types))
        try:
            reply = await self.client.get(
                f"{self.url}/v1/events",
                params=params,
                timeout=wait + REMOTE_GRACE_SECONDS,
                headers=who.to_peer(self.mint),
            )
        except httpx.HTTPError as error:
            raise SourceDown(f"{self.name} does not answer: {error!r}", source=self.name) from None
        if reply.status_code in (401, 403):
            raise SourceDown(
                f"{self.name} refused the gateway's internal token ({reply.status_code}: a clock skew or "
                f"another secret?): {reply.text[:200]!r}",
                source=self.name,
            )
        if reply.status_code != 200:
            raise SourceDown(f"{self.name} answered {reply.status_code}", source=self.name)
        try:
            return EventPage.model_validate_json(reply.content)
        except ValidationError as error:
            raise SourceDown(f"{self.name} answered 200 with no event page: {error}", source=self.name) from None
