"""Working a ticket: its lifecycle, conversation, classification, assignment and relations.

Every change answers with the ticket and its new ETag; with `If-Match`, a change
made on a stale read is refused with 412 instead of silently overwriting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from schemas.tickets import Channel, Priority, TicketType
from services.chassis.http import openapi
from services.chassis.http.auth import Forbidden
from services.chassis.http.etag import expected_version
from services.chassis.http.identity import CurrentIdentity, Identity, peer_headers
from services.chassis.http.request_keys import IdempotencyKey, RequestKey, scoped
from services.intake.http.common import IfMatch, cause_of, ticket_response
from services.intake.http.solution_articles import SolutionArticles
from services.intake.http.tickets import Tag
from services.intake.http.time_entries import LogTime, naming
from services.intake.tickets.access import Scope, visible_ticket
from services.intake.tickets.application import Intake
from services.intake.tickets.commands import Reclassification
from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import TimeEntryError
from services.intake.tickets.representations import TicketView
from services.intake.tickets.vocabulary import LinkKind, WaitingFor

Reason = Annotated[str, Field(min_length=1, max_length=1000, description="Why: kept in the ticket's history.")]


class Because(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class MarkPending(Because):
    waiting_for: WaitingFor
    until: AwareDatetime = Field(
        description="When to remind: the ticket comes back if nobody answers. In the future (422 otherwise), "
        "except on a keyed retry, which is answered as the first time."
    )


def _in_the_future(until: datetime) -> None:
    """Checked after a keyed retry is recognised: the retry of a request made in time is answered, even late."""
    if until <= datetime.now(UTC):
        message = "Value error, must be in the future: a ticket waits until a time to come"
        raise RequestValidationError([{"loc": ("body", "until"), "msg": message, "type": "value_error"}])


class Resolve(Because):
    resolution: str = Field(min_length=1, max_length=5000)


class AddComment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=50_000)
    public: bool = Field(description="A reply the requester sees, or an internal note.")
    channel: Channel = Channel.API
    time_entry: LogTime | None = Field(
        default=None, description="Time worked, logged with the reply in one save (the staff's only)."
    )


class Change(Because):
    """Several changes at once become several events in one transaction."""

    priority: Priority | None = None
    category: str | None = Field(default=None, min_length=1, max_length=64)
    type: TicketType | None = None
    tags_add: list[Tag] = Field(default_factory=list, max_length=20)
    tags_remove: list[Tag] = Field(default_factory=list, max_length=20)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    custom_fields_unset: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def a_tag_is_added_or_removed_not_both(self) -> Change:
        if both := set(self.tags_add) & set(self.tags_remove):
            raise ValueError(f"tags both added and removed: {sorted(both)}")
        return self


class Rate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=5, description="1 (very unhappy) to 5 (very happy).")
    comment: str = Field(default="", max_length=5000)


class Assign(Because):
    group_id: str = Field(min_length=1, max_length=100)
    agent_id: str | None = Field(default=None, min_length=1, max_length=100)


class Merge(Because):
    into: UUID


class Link(Because):
    ticket_id: UUID
    kind: LinkKind


class Solution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    article_id: UUID = Field(description="The knowledge base article that solved the ticket.")


class Split(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)


TicketId = Annotated[UUID, Path()]
B = TypeVar("B", bound=BaseModel)


def router(intake: Intake) -> APIRouter:
    async def guard(request: Request, ticket_id: TicketId, who: CurrentIdentity) -> None:
        """The caller must see the ticket (404 otherwise) and may take this action on it (403 otherwise)."""
        rest = request.url.path.split(f"/v1/tickets/{ticket_id}", 1)[1].strip("/")
        action = "split" if rest.endswith("/split") else (rest or "change")
        await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal, action)

    api = APIRouter(
        prefix="/v1/tickets/{ticket_id}",
        tags=["working a ticket"],
        responses=openapi.problems(409, 410) | {200: {"model": TicketView}},
        dependencies=[Depends(guard)],
    )

    async def run(
        command: Callable[..., Ticket],
        ticket_id: UUID,
        who: Identity,
        if_match: str | None,
        *args: Any,
        keyed: RequestKey | None = None,
    ) -> JSONResponse:
        """Run the application's `command` (ticket_id, cause, *args, expected_version) and answer with the ticket,
        for a customer without the internal notes."""
        version = expected_version(if_match)
        ticket = await asyncio.to_thread(command, ticket_id, cause_of(who, keyed), *args, version)
        return ticket_response(intake.view(ticket, public_only=not Scope.of(who.principal).staff))

    def post(
        path: str,
        name: str,
        command: Callable[..., Ticket],
        body_model: type[B],
        args: Callable[[B], tuple[Any, ...]],
        doc: str | None = None,
    ) -> None:
        """A keyed route answering with the ticket: `command(ticket_id, cause, *args(body), expected_version)`."""

        async def endpoint(
            ticket_id: TicketId, body: Any, who: CurrentIdentity, keyed: IdempotencyKey, if_match: IfMatch = None
        ) -> JSONResponse:
            return await run(command, ticket_id, who, if_match, *args(body), keyed=keyed)

        endpoint.__annotations__["body"] = body_model  # the request body FastAPI reads and documents
        api.add_api_route(path, endpoint, methods=["POST"], name=name, description=doc)

    def because(path: str, name: str, command: Callable[..., Ticket], doc: str | None = None) -> None:
        """A route whose body is only the reason."""
        post(path, name, command, Because, lambda body: (body.reason,), doc)

    because("/start-work", "start_work", intake.start_work)

    @api.post("/pending")
    async def mark_pending(
        ticket_id: TicketId, body: MarkPending, who: CurrentIdentity, keyed: IdempotencyKey, if_match: IfMatch = None
    ) -> JSONResponse:
        """Wait for the customer or a third party until `until`."""
        if not await asyncio.to_thread(intake.keyed_before, who.tenant, scoped(who, keyed)):
            _in_the_future(body.until)
        return await run(
            intake.mark_pending, ticket_id, who, if_match, body.waiting_for, body.until, body.reason, keyed=keyed
        )

    because("/resume", "resume", intake.resume)

    post("/resolve", "resolve", intake.resolve, Resolve, lambda body: (body.resolution, body.reason))

    because("/reopen", "reopen", intake.reopen)
    final = "Closing is final: later questions open a follow-up ticket (`follow_up_of`)."
    because("/close", "close", intake.close_ticket, final)

    csat = "The requester's satisfaction (CSAT) with a resolved or closed ticket; a new rating replaces it."
    post("/rating", "rate", intake.rate, Rate, lambda body: (body.score, body.comment), csat)

    @api.post("/solution")
    async def link_solution(
        ticket_id: TicketId, body: Solution, who: CurrentIdentity, request: Request, keyed: IdempotencyKey,
        if_match: IfMatch = None,
    ) -> JSONResponse:  # fmt: skip
        """Link the knowledge base article that solved the ticket (agents only); a later one replaces it. An
        article the knowledge base does not have for the agent is refused (422 naming `article_id`)."""
        articles: SolutionArticles | None = getattr(request.app.state, "solution_articles", None)
        if articles is not None and await articles.missing(str(body.article_id), peer_headers(request, who)):
            message = "Value error, no such article in the knowledge base"
            raise RequestValidationError([{"loc": ("body", "article_id"), "msg": message, "type": "value_error"}])
        return await run(intake.link_solution, ticket_id, who, if_match, str(body.article_id), keyed=keyed)

    @api.post("/comments", status_code=201)
    async def add_comment(
        ticket_id: TicketId, body: AddComment, who: CurrentIdentity, keyed: IdempotencyKey, if_match: IfMatch = None
    ) -> JSONResponse:
        """A reply (or an internal note), with the time worked on it (`time_entry`, the staff's only)."""
        comment_id = f"c-{uuid4().hex[:12]}"
        staff = Scope.of(who.principal).staff
        public = body.public or not staff  # a customer's words are always public: there is no internal note of theirs
        if body.time_entry is not None and not staff:
            raise Forbidden("a customer may not log time on a ticket", rule="role")
        entry = body.time_entry.entry(("time_entry",)) if body.time_entry is not None else None
        try:
            ticket = await asyncio.to_thread(
                intake.comment,
                ticket_id,
                cause_of(who, keyed),
                comment_id,
                body.body,
                public,
                body.channel.value,
                expected_version(if_match),
                staff=staff,
                time_entry=entry,
            )
        except TimeEntryError as error:
            raise naming("time_entry", error) from None
        return ticket_response(intake.view(ticket, public_only=not staff), 201)

    @api.patch("")
    async def change(ticket_id: TicketId, body: Change, who: CurrentIdentity, if_match: IfMatch = None) -> JSONResponse:
        """Change priority, category, type, tags and custom fields; only what differs is recorded."""
        change = Reclassification(
            body.reason,
            body.priority.value if body.priority else None,
            body.category,
            body.type.value if body.type else None,
            body.tags_add,
            body.tags_remove,
            body.custom_fields,
            body.custom_fields_unset,
        )
        return await run(intake.reclassify, ticket_id, who, if_match, change)

    @api.put("/assignment")
    async def assign(ticket_id: TicketId, body: Assign, who: CurrentIdentity, if_match: IfMatch = None) -> JSONResponse:
        return await run(intake.assign, ticket_id, who, if_match, body.group_id, body.agent_id, body.reason)

    @api.delete("/assignment")
    async def unassign(
        ticket_id: TicketId, who: CurrentIdentity, reason: Annotated[str, Query(min_length=1)], if_match: IfMatch = None
    ) -> JSONResponse:
        return await run(intake.unassign, ticket_id, who, if_match, reason)

    @api.post("/merge")
    async def merge(
        ticket_id: TicketId, body: Merge, who: CurrentIdentity, keyed: IdempotencyKey, if_match: IfMatch = None
    ) -> JSONResponse:
        """Merge this ticket into `into`: this one closes and points there; both record it."""
        version = expected_version(if_match)
        ticket = await asyncio.to_thread(intake.merge, ticket_id, body.into, body.reason, cause_of(who, keyed), version)
        return ticket_response(intake.view(ticket))

    @api.post("/links")
    async def link(ticket_id: TicketId, body: Link, who: CurrentIdentity, keyed: IdempotencyKey) -> JSONResponse:
        ticket = await asyncio.to_thread(
            intake.link, ticket_id, body.ticket_id, body.kind, body.reason, cause_of(who, keyed)
        )
        return ticket_response(intake.view(ticket))

    @api.post("/comments/{comment_id}/split", status_code=201)
    async def split(
        ticket_id: TicketId, comment_id: str, body: Split, who: CurrentIdentity, keyed: IdempotencyKey
    ) -> JSONResponse:
        """Make one comment its own ticket, linked to this one (a keyed retry: the ticket it made, 200)."""
        opened = await asyncio.to_thread(intake.split, ticket_id, comment_id, body.title, cause_of(who, keyed))
        if not opened.created:  # a replay answers as a GET would: routing may have moved the new ticket away
            await asyncio.to_thread(visible_ticket, intake, opened.ticket.id, who.principal)
        status = 201 if opened.created else 200
        extra = {"position": opened.position}
        return ticket_response(intake.view(opened.ticket), status, extra=extra, location=True)

    return api
