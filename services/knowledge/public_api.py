"""The public knowledge base (`/v1/kb/public/{tenant}`): no sign-in, one tenant's published public
articles only (an internal or an organisation's article answers 404). The gateway limits how
often one address may ask (429)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from services.chassis.http import openapi
from services.knowledge import search
from services.knowledge.domain import Article
from services.knowledge.errors import NotFoundError
from services.knowledge.files import Files
from services.knowledge.requests import SLUG, Deflection, Feedback, Language, Reading, SuggestionRequest
from services.knowledge.service import PUBLIC, RECORDED, Service
from services.knowledge.views import article_view, hit_view

ANONYMOUS = "anonymous"
Tenant = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$", description="The tenant whose knowledge base.")]
INLINE = ("image/png", "image/jpeg", "image/gif", "image/webp")


async def download(files: Files, article: Article, attachment_id: UUID) -> Response:
    """An attachment's bytes: an image inline (an article shows it), anything else as a download."""
    attachment = next((a for a in article.attachments if a["id"] == str(attachment_id)), None)
    content = None if attachment is None else await asyncio.to_thread(
        files.content, article.tenant, article.id, attachment_id
    )  # fmt: skip
    if attachment is None or content is None:
        raise NotFoundError(f"no attachment {attachment_id}", "attachment_id")
    shown = "inline" if attachment["content_type"] in INLINE else "attachment"
    headers = {"Content-Disposition": f"{shown}; filename*=UTF-8''{quote(attachment['name'], safe='')}",
               "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"}  # fmt: skip
    media = attachment["content_type"] if shown == "inline" else "application/octet-stream"
    return Response(content, media_type=media, headers=headers)


def public_router(service: Service) -> APIRouter:
    knowledge, view = service.knowledge, service.view
    api = APIRouter(prefix="/v1/kb/public/{tenant}", tags=["knowledge (public)"], responses=openapi.problems(429))

    @api.get("/categories")
    async def public_categories(tenant: Tenant) -> dict[str, Any]:
        """The tenant's category tree (no sign-in)."""
        tree = await asyncio.to_thread(knowledge.categories, tenant)
        return {"categories": tree.listed() if tree else []}

    @api.get("/articles")
    async def public_articles(
        tenant: Tenant,
        category: Annotated[str | None, Query(pattern=SLUG)] = None,
        language: Language | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        after: Annotated[str | None, Query(max_length=200)] = None,
    ) -> dict[str, Any]:
        """The tenant's published public articles (without body), the last changed first."""
        filters = {"category": category, "language": language, "audience": ""}
        rows = await asyncio.to_thread(view.articles, tenant, filters, limit, after)
        last = rows[-1] if len(rows) == limit else None
        return {"articles": rows, "next_after": f"{last['updated_at']}/{last['id']}" if last else None}

    @api.get("/articles/{article_id}")
    async def public_article(tenant: Tenant, article_id: UUID) -> dict[str, Any]:
        """A published public article (an internal or an organisation's one: 404)."""
        return article_view(await service.seen(tenant, article_id, PUBLIC))

    @api.get(
        "/articles/{article_id}/attachments/{attachment_id}",
        response_class=Response,
        responses=openapi.media(200, "application/octet-stream", "The file's bytes, as attached."),
    )
    async def public_attachment(tenant: Tenant, article_id: UUID, attachment_id: UUID) -> Response:
        """A file (an image) of a published public article."""
        return await download(service.files, await service.seen(tenant, article_id, PUBLIC), attachment_id)

    @api.get("/search")
    async def public_search(
        tenant: Tenant,
        q: Annotated[str, Query(min_length=1, max_length=500)],
        language: Language | None = None,
        category: Annotated[str | None, Query(pattern=SLUG)] = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> dict[str, Any]:
        """The tenant's published public articles for the words, best first, with snippets."""
        hits = await asyncio.to_thread(search.search, view.view, tenant, q, PUBLIC, language, category, limit)
        return {"hits": [hit_view(h) for h in hits]}

    @api.post("/suggestions")
    async def public_suggestions(tenant: Tenant, body: SuggestionRequest) -> dict[str, Any]:
        """The best public articles for a text (no tickets: nobody is signed in)."""
        hits = await asyncio.to_thread(search.suggest, view.view, tenant, body.text, PUBLIC, body.language,
                                       body.limit)  # fmt: skip
        return {"articles": [hit_view(h) for h in hits], "tickets": []}

    @api.post("/articles/{article_id}/feedback", status_code=202, response_class=Response, responses=RECORDED)
    async def public_feedback(tenant: Tenant, article_id: UUID, body: Feedback) -> Response:
        """Did this help? (from a reader who is not signed in)"""
        await service.seen(tenant, article_id, PUBLIC)
        await asyncio.to_thread(knowledge.rated, tenant, article_id, body.helpful, body.channel, ANONYMOUS)
        return Response(status_code=202)

    @api.post("/articles/{article_id}/views", status_code=202, response_class=Response, responses=RECORDED)
    async def public_view(tenant: Tenant, article_id: UUID, body: Reading | None = None) -> Response:
        """Someone read a public article."""
        await service.seen(tenant, article_id, PUBLIC)
        channel = body.channel if body is not None else "portal"
        await asyncio.to_thread(knowledge.viewed, tenant, article_id, channel, ANONYMOUS)
        return Response(status_code=202)

    @api.post("/deflections", status_code=202, response_class=Response, responses=RECORDED)
    async def public_deflection(tenant: Tenant, body: Deflection) -> Response:
        """A self-service attempt ended (no sign-in): solved by an article, or a ticket opened anyway."""
        if body.article_id is not None:
            await service.seen(tenant, body.article_id, PUBLIC)
        await asyncio.to_thread(knowledge.self_service_ended, tenant, body.article_id, body.channel, body.outcome,
                                ANONYMOUS)  # fmt: skip
        return Response(status_code=202)

    return api
