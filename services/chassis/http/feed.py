"""A service's HTTP event feed (serving and reading it): the source of truth to rebuild or catch up from."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, Protocol, TypeVar

import httpx
from eventsourcing.application import Application
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response, StreamingResponse
from fastapi.types import DecoratedCallable
from pydantic import BaseModel, Field, create_model
from pydantic_core import to_json

from schemas.envelope import Envelope, EnvelopeFields
from schemas.registry import ANY_TYPED_ENVELOPE, TOPIC_EVENTS, TypedEnvelope
from services.chassis.http import openapi
from services.chassis.http.auth import Forbidden, Role
from services.chassis.http.draining import until_draining
from services.chassis.http.identity import CurrentIdentity, requires
from services.chassis.messaging.published import PublishedLog
from services.chassis.messaging.relay import PublicFields

C = TypeVar("C")


class ServerSent(Protocol):
    """What a live tail sends: an event with a type, as JSON (an `Envelope`, or another model)."""

    @property
    def type(self) -> str: ...

    def model_dump_json(self) -> str: ...


class StreamEnded(Exception):
    """Raised by a live tail's reader: the stream ends here (e.g. the caller may no longer see what it follows)."""


# Events after a cursor, each with the cursor after it (None: the event moves no cursor, so it has no SSE `id`).
Reader = Callable[[C], Awaitable[tuple[Sequence[tuple[ServerSent, Any]], C]]]

SCAN = 5000  # notifications read at most per page, whatever the filters keep
POLL_SECONDS = 0.05


class EventPage(BaseModel):
    events: list[Envelope]
    next_after: int = Field(description="Pass as `after` to read the next page (a store position).")


Item = str | EnvelopeFields  # an envelope's JSON from the published log, or its fields transcoded from the store


class Feed:
    """Pages of an application's public events, filtered by tenant and type: from the published
    log where it covers them (services/chassis/messaging/published.py), else transcoded from the store.

    `topic`: the one topic the feed serves, when the relay also publishes on others (intake's
    checkpoints): the published log holds what every topic was given, so its pages keep only the
    topic's types, as `public` does for the positions transcoded."""

    def __init__(self, app: Application[Any], public: PublicFields, topic: str | None = None) -> None:
        self.app = app
        self.public = public
        self.log = PublishedLog(app.factory.tracking_recorder(), app.name)
        self.served = frozenset(model.event_type for model in TOPIC_EVENTS[topic]) if topic else frozenset()

    def page(self, after: int, limit: int, tenant: str | None, types: set[str]) -> EventPage:
        found, position = self._items(after, limit, tenant, types)
        events = [Envelope.model_validate_json(i) if isinstance(i, str) else Envelope.model_validate(i) for i in found]
        return EventPage(events=events, next_after=position)

    def page_json(self, after: int, limit: int) -> bytes:
        """Every tenant's page as the JSON of an `EventPage`, the published log's envelopes as they
        are stored and the rest straight from the publisher's fields: no envelope is built to be
        serialised again (the reader validates what it reads)."""
        found, position = self._items(after, limit, None, set())
        events = ",".join(i if isinstance(i, str) else to_json(i).decode() for i in found)
        return f'{{"events":[{events}],"next_after":{position}}}'.encode()

    def _items(self, after: int, limit: int, tenant: str | None, types: set[str]) -> tuple[list[Item], int]:
        """Up to `limit` events after `after`, and the store position read up to."""
        items: list[Item] = []
        position = after
        coverage = self.log.coverage()
        while len(items) < limit:
            if coverage.covers(position):
                wanted = limit - len(items)
                logged, position = self.log.page(position, coverage.relayed, wanted, tenant, types, self.served)
                items += logged
                continue
            began = coverage.began_after
            until = began if began is not None and position < began else None
            fields, scanned = self._transcoded(position, limit - len(items), tenant, types, until)
            items += fields
            stopped = scanned == position or until is None or scanned < until  # the end, or the scan bound
            position = scanned
            if stopped:
                break
        return items, position

    def _transcoded(
        self, after: int, limit: int, tenant: str | None, types: set[str], until: int | None
    ) -> tuple[list[EnvelopeFields], int]:
        """Events after `after` (up to position `until`, if given) from the store, reading at most
        SCAN notifications, and the position read up to."""
        events: list[EnvelopeFields] = []
        position = after
        while len(events) < limit and position - after < SCAN and (until is None or position < until):
            notifications = self.app.recorder.select_notifications(position + 1, min(limit, 1000), stop=until)
            if not notifications:
                break
            for notification in notifications:
                position = notification.id
                record = self.public(notification)
                if record is None:
                    continue
                fields = record[1]
                if (tenant is None or fields["tenant"] == tenant) and (not types or fields["type"] in types):
                    events.append(fields)
                    if len(events) == limit:
                        break
        if until is not None and len(events) < limit and position < until and position - after < SCAN:
            position = until  # nothing more up to `until`: the notifications there were private, or none
        return events, position

    async def wait_for_page(
        self, after: int, limit: int, tenant: str | None, types: set[str], wait: float
    ) -> EventPage:
        """A page; with nothing to show, wait up to `wait` seconds for something (long poll)."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            page = await asyncio.to_thread(self.page, after, limit, tenant, types)
            if page.events or asyncio.get_running_loop().time() >= deadline:
                return page
            after = page.next_after
            await asyncio.sleep(POLL_SECONDS)


Types = Annotated[
    str | None, Query(description="Comma-separated event types to keep, e.g. `ticket.opened,ticket.assigned`.")
]
PageSize = Annotated[int, Query(ge=1, le=1000)]
Wait = Annotated[float, Query(ge=0, le=30, description="Seconds to wait when nothing is new.")]


def parse_types(types: str | None) -> set[str]:
    return {t.strip() for t in types.split(",") if t.strip()} if types else set()


def feed_router(
    app: Application[Any], public: PublicFields, tenant_feed: bool = True, topic: str | None = None
) -> APIRouter:
    """The service's public events as HTTP, in store order: `/v1/events` (the caller's tenant; paged,
    long poll), `/v1/events/stream` (the caller's tenant; Server-Sent Events, live tail) and
    `/internal/events` (every tenant: the source to rebuild a read model from; not for the public
    ingress). Without `tenant_feed` only `/internal/events`: at the gateway `/v1/events` is every
    service's feed merged (services/chassis/http/gateway_feed.py). `topic`: as for `Feed`."""
    api = APIRouter(tags=["events"])
    feed = Feed(app, public, topic)
    if tenant_feed:
        _tenant_routes(api, feed)

    @api.get("/internal/events", response_model=EventPage, include_in_schema=False)
    async def internal_events(
        who: CurrentIdentity,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=SCAN)] = 100,
    ) -> Response:
        if not who.principal.service:
            raise Forbidden("the internal feed is for the platform's own services", rule="service")
        # A rebuild reads hundreds of thousands of events here: serialised straight from the
        # publisher's fields, without FastAPI's response validation or an envelope per event.
        return Response(await asyncio.to_thread(feed.page_json, after, limit), media_type="application/json")

    return api


def _tenant_routes(api: APIRouter, feed: Feed) -> None:
    @api.get("/v1/events", response_model=EventPage, dependencies=[requires(Role.ADMIN)])
    async def events(
        who: CurrentIdentity, after: Annotated[int, Query(ge=0)] = 0,
        limit: PageSize = 100, types: Types = None, wait: Wait = 0,
    ) -> EventPage:  # fmt: skip
        """The tenant's public events after store position `after`, oldest first. A consumer that
        missed Kafka catches up here from any position, with the same envelopes Kafka carried."""
        return await feed.wait_for_page(after, limit, who.tenant, parse_types(types), wait)

    @event_stream_route(api)
    async def stream(
        who: CurrentIdentity,
        after: Annotated[int, Query(ge=0)] = 0,
        types: Types = None,
        last_event_id: Annotated[int | None, Header(ge=0)] = None,
    ) -> StreamingResponse:
        """Server-Sent Events, a live tail: each event as it is stored, its `id` the store position,
        so a reconnecting client's `Last-Event-ID` resumes right after it; a comment every 15 s
        keeps the line open."""
        wanted = parse_types(types)

        async def read(position: int) -> tuple[list[tuple[Envelope, int]], int]:
            page = await feed.wait_for_page(position, 100, who.tenant, wanted, 1.0)
            return [(envelope, envelope.position) for envelope in page.events], page.next_after

        return server_sent_events(read, max(after, last_event_id or 0))


async def _event_lines(read: Reader[C], start: C, retry_ms: int | None) -> AsyncIterator[str]:
    cursor, quiet = start, 0.0
    if retry_ms is not None:
        yield f"retry: {retry_ms}\n\n"
    while True:
        try:
            events, cursor = await read(cursor)
        except StreamEnded:
            return
        for event, after_it in events:
            named = f"id: {after_it}\n" if after_it is not None else ""
            yield f"{named}event: {event.type}\ndata: {event.model_dump_json()}\n\n"
        quiet = 0.0 if events else quiet + 1.0
        if quiet >= 15.0:
            quiet = 0.0
            yield ": still here\n\n"


def event_stream_route(api: APIRouter, id_is: str = "") -> Callable[[DecoratedCallable], DecoratedCallable]:
    """`GET /v1/events/stream` on `api`, for admins: a feed's live tail, documented as Server-Sent Events
    whose `id` is what `id_is` says."""
    description = (
        f"Server-Sent Events: `id`{id_is}, `event` (the type), `data` (the envelope as JSON); "
        "`: still here` comments between."
    )
    return api.get(
        "/v1/events/stream",
        dependencies=[requires(Role.ADMIN)],
        response_class=StreamingResponse,
        responses=openapi.media(200, "text/event-stream", description, openapi.SERVER_SENT_EVENT),
    )


def server_sent_events(read: Reader[C], start: C, retry_ms: int | None = None) -> StreamingResponse:
    """A live tail as Server-Sent Events: `read(cursor)` waits about a second for the events after
    `cursor` and answers them, each with the cursor right after it (its SSE `id`, which a reconnecting
    client sends back as `Last-Event-ID`; None for an event that moves no cursor), and the cursor to
    read from next; a comment every 15 quiet seconds keeps the line open. `retry_ms`: how soon a
    browser reconnects after the line breaks (SSE `retry`)."""
    lines = until_draining(_event_lines(read, start, retry_ms))
    return StreamingResponse(lines, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


TypedPage = create_model("TypedPage", events=(list[ANY_TYPED_ENVELOPE], ...), next_after=(int, ...))


def read_pages(
    base_url: str, token: Callable[[], str], after: int = 0, page_size: int = SCAN
) -> Iterator[list[TypedEnvelope]]:
    """Every public event (every tenant) after store position `after`, in store order, a page at a time,
    each envelope's data read in the same pass as its page (`token` gives a fresh service token per
    page: see TokenVerifier.mint_service)."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        while True:
            # Streamed, so the body is ours: a read response keeps its body, a 3 MB page, in a reference
            # cycle, which a replay that collects rarely (services/chassis/runtime/collector.py) would pile up.
            with client.stream(
                "GET",
                "/internal/events",
                params={"after": after, "limit": page_size},
                headers={"Authorization": f"Bearer {token()}"},
            ) as response:
                response.raise_for_status()
                body = b"".join(response.iter_bytes())
            page: Any = TypedPage.model_validate_json(body)
            if page.events:
                yield page.events
            if page.next_after == after:
                return
            after = page.next_after


def read_ahead(pages: Iterator[list[TypedEnvelope]]) -> Iterator[list[TypedEnvelope]]:
    """The same pages, the next one fetched (and parsed) on a thread while the caller applies this one."""
    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as reader:
        upcoming = reader.submit(next, pages, None)
        while (page := upcoming.result()) is not None:
            upcoming = reader.submit(next, pages, None)
            yield page
