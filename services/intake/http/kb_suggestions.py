"""`POST /v1/kb/suggestions` at the gateway: the knowledge base's best articles for a text, and the
most similar resolved or closed tickets the caller may see, from intake's own ticket search.

The articles come from the knowledge service (with the gateway's internal token for the same
caller); when it does not answer, the tickets still do. A customer gets only tickets they opened.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.keywords import words
from services.chassis.http.identity import CurrentIdentity, peer_headers
from services.intake.tickets.access import Scope
from services.intake.tickets.projections import TicketsProjection

SOLVED = ("resolved", "closed")
MOST_WORDS = 12  # of the text's longer words, searched as alternatives
WAIT_SECONDS = 2.0


class SuggestionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(max_length=20_000)]
    language: Literal["en", "ru"] | None = None
    limit: int = Field(5, ge=1, le=20)


class SimilarTicket(BaseModel):
    id: str
    number: str
    title: str
    status: str


class ArticleHit(BaseModel):
    id: str
    title: str
    snippet: str = Field(description="HTML: the escaped text with the words found in <mark>.")
    language: str
    category: str | None
    score: float


class Suggestions(BaseModel):
    articles: list[ArticleHit]
    tickets: list[SimilarTicket]


def similar_query(text: str) -> str:
    """The text's longer words as alternatives (`a or b or c`): a ticket need share only some of them."""
    return " or ".join([word for word in words(text) if len(word) > 3][:MOST_WORDS])


def router(projection: TicketsProjection, knowledge: str, client: httpx.AsyncClient) -> APIRouter:
    api = APIRouter(prefix="/v1/kb", tags=["knowledge"])

    async def articles(request: Request, body: SuggestionRequest, who: CurrentIdentity) -> list[dict[str, Any]]:
        try:
            reply = await client.post(
                f"{knowledge}/v1/kb/suggestions", json=body.model_dump(), timeout=WAIT_SECONDS,
                headers=peer_headers(request, who),
            )  # fmt: skip
        except httpx.HTTPError:
            return []
        found: list[dict[str, Any]] = reply.json().get("articles", []) if reply.status_code == 200 else []
        return found

    def tickets(body: SuggestionRequest, who: CurrentIdentity) -> list[dict[str, Any]]:
        query = similar_query(body.text)
        if not query:
            return []
        scope = Scope.of(who.principal)
        found = projection.search(who.tenant, query, 200, public_only=not scope.staff)
        kept = [row for row in found if row["status"] in SOLVED and scope.admits(row)
                and (scope.staff or row["requester_id"] == who.actor)]  # fmt: skip
        return [{"id": row["ticket_id"], "number": row["number"], "title": row["title"], "status": row["status"]}
                for row in kept[: body.limit]]  # fmt: skip

    @api.post("/suggestions", response_model=Suggestions)
    async def suggestions(body: SuggestionRequest, who: CurrentIdentity, request: Request) -> dict[str, Any]:
        """For a ticket's title and description (or a chat message): the best articles the caller may read,
        and the most similar resolved or closed tickets they may see (a customer: only their own)."""
        found, similar = await asyncio.gather(
            articles(request, body, who), asyncio.to_thread(tickets, body, who)
        )  # fmt: skip
        return {"articles": found, "tickets": similar}

    return api
