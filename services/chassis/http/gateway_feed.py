"""The gateway's event feed: every public event of the caller's tenant, from every service that
publishes (intake's tickets, routing's decisions, sla's clocks, knowledge's articles), as one feed
and one stream.

Each service serves its own feed in its store's order (services/chassis/http/feed.py); the gateway
reads them, each from where the caller left it, and merges a page:

- **Order.** Each source's events keep their store order. Across sources there is no global
  order (ARCHITECTURE.md); a page interleaves them by `occurred_at`, which reads naturally
  but promises nothing: a decision may come before the ticket event it answers.
- **Cursor.** `next_after` is opaque to callers: it holds every source's position
  (`intake.120-routing.45-sla.7-knowledge.3` today), so a page resumes exactly where the last one ended in
  each source. A bare number (a cursor of the feed before it was merged) resumes intake there
  and the other sources from their beginning. An SSE event's `id` is the cursor right after it.
- **Tenant.** Each source filters by the caller's tenant itself: the gateway asks it with its
  internal token for the caller (as its proxy does), never for every tenant.
- **A source that does not answer** leaves its position as it was and is named in
  `unavailable`; the page holds what the others had, so tickets keep flowing while sla
  restarts, and nothing is skipped: the next page asks it again from the same place. Only when
  no source answers is the answer a 503. Each page first asks every source for what it has
  (`PROBE_SECONDS` at most: one that hangs must not hold every page up), and a source that did
  not answer rests `RESTING_SECONDS` (named in `unavailable`, not asked) before it is tried again.
  A source that answers with a body that is no page, or refuses the gateway's internal token
  (401/403: a clock skew, another secret), counts as not answering, with a log line saying why.
- **Tenant, again.** Events of another tenant on a source's page are dropped (and logged): each
  source filters already, the gateway does not rely on it alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from schemas.envelope import Envelope
from services.chassis.http.auth import Role
from services.chassis.http.feed import (
    EventPage,
    PageSize,
    Types,
    Wait,
    event_stream_route,
    parse_types,
    server_sent_events,
)
from services.chassis.http.feed_cursor import Cursor
from services.chassis.http.feed_sources import REMOTE_GRACE_SECONDS, Source, SourceDown
from services.chassis.http.identity import CurrentIdentity, Identity, requires

log = logging.getLogger(__name__)
PROBE_SECONDS = 1.0  # the first, not waiting, ask of a page: a source slower than this counts as down
RESTING_SECONDS = 10.0  # a source that did not answer is not asked again for this long


class MergedPage(BaseModel):
    events: list[Envelope]
    next_after: str = Field(description="Pass as `after` to read the next page: an opaque cursor over every source.")
    unavailable: list[str] = Field(
        default_factory=list,
        description="Sources that did not answer: their events come on a later page, from where they were.",
    )


@dataclass
class _Read:
    """What the feed read for one page: each source's events, the cursor after all of them, the
    cursor after each event, and which sources did not answer."""

    events: list[tuple[Envelope, Cursor]]
    after: Cursor
    unavailable: list[str]

    def page(self) -> MergedPage:
        return MergedPage(events=[e for e, _ in self.events], next_after=str(self.after), unavailable=self.unavailable)


class Resting:
    """Sources that did not answer, each until when it is not asked again (a small circuit breaker)."""

    def __init__(self, seconds: float = RESTING_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._until: dict[str, float] = {}

    def rests(self, name: str) -> bool:
        return self._until.get(name, 0.0) > self.clock()

    def down(self, name: str) -> None:
        self._until[name] = self.clock() + self.seconds

    def up(self, name: str) -> None:
        self._until.pop(name, None)


class MergedFeed:
    def __init__(
        self, sources: Sequence[Source], probe_seconds: float = PROBE_SECONDS, resting: Resting | None = None
    ) -> None:
        self.sources = list(sources)
        self.names = [source.name for source in self.sources]
        self.probe_seconds = probe_seconds
        self.resting = resting or Resting()

    def cursor(self, text: str | None) -> Cursor:
        return Cursor.parse(self.names, text)

    async def read(self, cursor: Cursor, limit: int, who: Identity, types: set[str], wait: float) -> _Read:
        """Up to `limit` events after `cursor`; with none to show, wait up to `wait` seconds for some."""
        pages, unavailable = await self._ask(cursor, limit, who, types, 0.0)
        if wait > 0 and not any(page.events for page in pages.values()):
            cursor = self._past(cursor, pages)
            pages, unavailable = await self._ask(cursor, limit, who, types, wait)
        if len(unavailable) == len(self.sources):
            raise SourceDown(f"no source of the feed answers: {', '.join(unavailable)}", unavailable=unavailable)
        return self._merge(cursor, pages, limit, unavailable)

    async def _ask(
        self, cursor: Cursor, limit: int, who: Identity, types: set[str], wait: float
    ) -> tuple[dict[str, EventPage], list[str]]:
        """Every source's page but the resting ones'; when waiting, until the first that has events
        (the rest are let go: their events come next time, from the same position). A source that
        has not answered by the deadline (the probe's, or the wait's and a grace) counts as down."""
        asked = [s for s in self.sources if not self.resting.rests(s.name)]
        unavailable = [s.name for s in self.sources if s not in asked]
        tasks = {asyncio.create_task(s.page(cursor.positions[s.name], limit, who, types, wait)): s.name for s in asked}
        pages: dict[str, EventPage] = {}
        pending = set(tasks)
        patience = wait + REMOTE_GRACE_SECONDS if wait > 0 else self.probe_seconds
        deadline = time.monotonic() + patience
        try:
            while pending:
                done, pending = await asyncio.wait(
                    pending, timeout=max(0.0, deadline - time.monotonic()), return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    for task in pending:
                        self._down(tasks[task], f"{tasks[task]} did not answer within {patience:.1f} s")
                        unavailable.append(tasks[task])
                    break
                for task in done:
                    name = tasks[task]
                    if (error := task.exception()) is not None:
                        if not isinstance(error, SourceDown):
                            raise error
                        self._down(name, error.detail)
                        unavailable.append(name)
                    else:
                        self.resting.up(name)
                        pages[name] = self._tenants_own(name, task.result(), who.tenant)
                if wait > 0 and any(page.events for page in pages.values()):
                    break
        finally:
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return pages, sorted(unavailable, key=self.names.index)

    def _down(self, name: str, why: str) -> None:
        log.warning("event feed: %s; not asked again for %.0f s", why, self.resting.seconds)
        self.resting.down(name)

    @staticmethod
    def _tenants_own(name: str, page: EventPage, tenant: str) -> EventPage:
        """The page without other tenants' events (each source filters already: a defence in depth).
        `next_after` stays: the source moves past what was dropped."""
        own = [e for e in page.events if e.tenant == tenant]
        if len(own) < len(page.events):
            log.error(
                "event feed: %s served %d event(s) of another tenant than %s; dropped",
                name,
                len(page.events) - len(own),
                tenant,
            )
            return EventPage(events=own, next_after=page.next_after)
        return page

    def _past(self, cursor: Cursor, pages: dict[str, EventPage]) -> Cursor:
        for name, page in pages.items():
            cursor = cursor.moved(name, page.next_after)
        return cursor

    def _merge(self, cursor: Cursor, pages: dict[str, EventPage], limit: int, unavailable: list[str]) -> _Read:
        """Interleave by `occurred_at` (each source's order kept), up to `limit`; a source whose events
        all fit moves to where it read up to, one cut short to its last event on the page."""
        runs = [[(e.occurred_at, self.names.index(name), name, e) for e in page.events] for name, page in pages.items()]
        events: list[tuple[Envelope, Cursor]] = []
        taken: dict[str, int] = {}
        for _, _, name, envelope in heapq.merge(*runs, key=lambda item: (item[0], item[1])):
            if len(events) == limit:
                break
            cursor = cursor.moved(name, envelope.position)
            taken[name] = taken.get(name, 0) + 1
            events.append((envelope, cursor))
        for name, page in pages.items():
            if taken.get(name, 0) == len(page.events):
                cursor = cursor.moved(name, page.next_after)
        return _Read(events, cursor, unavailable)


Cursors = Annotated[
    str | None,
    Query(
        max_length=500, description="`next_after` of the previous page (or an SSE event's id); none: from the start."
    ),
]


def merged_feed_router(feed: MergedFeed) -> APIRouter:
    """`/v1/events` and `/v1/events/stream` at the gateway: every source's events for the caller's tenant."""
    api = APIRouter(tags=["events"])

    @api.get("/v1/events", response_model=MergedPage, dependencies=[requires(Role.ADMIN)])
    async def events(
        who: CurrentIdentity, after: Cursors = None,
        limit: PageSize = 100, types: Types = None, wait: Wait = 0,
    ) -> MergedPage:  # fmt: skip
        """The tenant's public events of every service (tickets, routing decisions, SLA clocks) after
        the cursor `after`: each service's in its store order, interleaved by time, the same envelopes
        Kafka carried. A service that does not answer is named in `unavailable` and read again from
        the same place next time; a 503 only when none answers."""
        cursor = feed.cursor(after)
        return (await feed.read(cursor, limit, who, parse_types(types), wait)).page()

    @event_stream_route(api, " (the cursor after the event)")
    async def stream(
        who: CurrentIdentity,
        after: Cursors = None,
        types: Types = None,
        last_event_id: Annotated[str | None, Header(max_length=500)] = None,
    ) -> StreamingResponse:
        """Server-Sent Events, a live tail of the same events: each event's `id` is the cursor right
        after it, so a reconnecting client's `Last-Event-ID` resumes there; a comment every 15 s
        keeps the line open."""
        wanted = parse_types(types)
        start = feed.cursor(after).merged(feed.cursor(last_event_id))

        async def read(cursor: Cursor) -> tuple[list[tuple[Envelope, Cursor]], Cursor]:
            try:
                found = await feed.read(cursor, 100, who, wanted, 1.0)
            except SourceDown:
                await asyncio.sleep(1.0)
                return [], cursor
            return list(found.events), found.after

        return server_sent_events(read, start)

    return api
