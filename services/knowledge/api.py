"""The knowledge base's part of the gateway API (`/v1/kb`): categories, articles, their history,
attachments, search and suggestions, and what readers tell (views, feedback, deflections).

Staff see every article; a customer sees published ones that are public or of their own
organisation: anything else answers 404, as if it were not there."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Header, Path, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from services.chassis.http import openapi
from services.chassis.http.auth import STAFF, Role
from services.chassis.http.etag import etag, expected_version
from services.chassis.http.identity import CurrentIdentity, Identity, requires
from services.chassis.http.problems import problem
from services.knowledge import search
from services.knowledge.errors import KnowledgeError, VersionMismatchError
from services.knowledge.public_api import download, public_router
from services.knowledge.requests import (
    SLUG,
    ArticleChanges,
    CategorySpec,
    Deflection,
    Feedback,
    Language,
    NewArticle,
    Reading,
    SuggestionRequest,
)
from services.knowledge.service import RECORDED, Service, audience
from services.knowledge.views import article_view, history_view, hit_view

WRITERS = (Role.ADMIN, Role.SUPERVISOR)
NOT_NULL = ("language", "title", "body", "tags", "visibility", "organisations")


def router(service: Service) -> APIRouter:
    knowledge, view = service.knowledge, service.view
    api = APIRouter(prefix="/v1/kb", tags=["knowledge"])
    staff = [requires(*STAFF)]

    # -- categories ---------------------------------------------------------------------------

    @api.put("/categories/{slug}", dependencies=[requires(*WRITERS)])
    async def put_category(slug: Annotated[str, Path(pattern=SLUG)], body: CategorySpec,
                           who: CurrentIdentity) -> dict[str, Any]:  # fmt: skip
        """Define or change a category; a parent that is the category or under it is refused (422 `parent`)."""
        await asyncio.to_thread(
            knowledge.define_category,
            who.tenant,
            slug,
            {str(k): v for k, v in body.names.items()},
            body.parent,
            body.position,
            who.actor,
        )
        return {"slug": slug} | body.model_dump(mode="json")

    @api.get("/categories")
    async def get_categories(who: CurrentIdentity) -> dict[str, Any]:
        """The category tree, each with its parent (null at the top), siblings by position."""
        tree = await asyncio.to_thread(knowledge.categories, who.tenant)
        return {"categories": tree.listed() if tree else []}

    @api.delete("/categories/{slug}", status_code=204, dependencies=[requires(*WRITERS)])
    async def delete_category(slug: str, who: CurrentIdentity) -> Response:
        """Remove an empty category: none under it, no article filed in it (422 `slug` otherwise)."""
        await service.caught_up()  # the articles written before this request are in the view

        def in_use(category: str) -> bool:
            return view.in_use(who.tenant, category)

        await asyncio.to_thread(knowledge.remove_category, who.tenant, slug, who.actor, in_use)
        return Response(status_code=204)

    # -- articles ---------------------------------------------------------------------------------

    @api.post("/articles", status_code=201, dependencies=staff)
    async def post_article(body: NewArticle, who: CurrentIdentity, response: Response) -> dict[str, Any]:
        """Draft an article (`translation_of`: the article it translates, linked both ways)."""
        fields = body.model_dump(mode="json", exclude={"translation_of"})
        article_id = await asyncio.to_thread(knowledge.draft, who.tenant, fields, body.translation_of, who.actor)
        article = await service.seen(who.tenant, article_id, audience(who))
        response.headers["ETag"] = etag(article.version)
        return article_view(article)

    @api.patch("/articles/{article_id}", dependencies=staff)
    async def patch_article(
        article_id: UUID, body: ArticleChanges, who: CurrentIdentity, response: Response,
        if_match: Annotated[str | None, Header(description='The ETag read ("3"): 412 if the article moved on.')] = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Revise an article: a new version with the fields given (`If-Match`: the version read, else 412)."""
        changes = body.model_dump(mode="json", exclude_unset=True)
        if nulls := [name for name in NOT_NULL if name in changes and changes[name] is None]:
            raise KnowledgeError(f"{nulls[0]} may not be null", nulls[0])
        await asyncio.to_thread(
            knowledge.revise, who.tenant, article_id, changes, who.actor, expected_version(if_match)
        )
        return await answer(article_id, who, response)

    async def answer(article_id: UUID, who: Identity, response: Response) -> dict[str, Any]:
        article = await service.seen(who.tenant, article_id, audience(who))
        response.headers["ETag"] = etag(article.version)
        return article_view(article)

    @api.post("/articles/{article_id}/publish", dependencies=staff)
    async def publish(article_id: UUID, who: CurrentIdentity, response: Response) -> dict[str, Any]:
        """Publish: the article's audience can read and find it."""
        await asyncio.to_thread(knowledge.publish, who.tenant, article_id, who.actor)
        return await answer(article_id, who, response)

    @api.post("/articles/{article_id}/archive", dependencies=staff)
    async def archive(article_id: UUID, who: CurrentIdentity, response: Response) -> dict[str, Any]:
        """Archive: only the staff read it any more; nobody finds it."""
        await asyncio.to_thread(knowledge.archive, who.tenant, article_id, who.actor)
        return await answer(article_id, who, response)

    @api.get("/articles/{article_id}")
    async def get_article(
        article_id: UUID, who: CurrentIdentity, response: Response,
        as_of: Annotated[datetime | None, Query(description="The article as it was at this instant.")] = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The article now (body as Markdown and as safe HTML), or as of an instant."""
        article = await service.seen(who.tenant, article_id, audience(who), as_of)
        response.headers["ETag"] = etag(article.version)
        return article_view(article)

    @api.get("/articles/{article_id}/history", dependencies=staff)
    async def get_history(article_id: UUID, who: CurrentIdentity) -> dict[str, Any]:
        """Every version: when, who, which fields changed, and the status after it."""
        events = await asyncio.to_thread(lambda: list(knowledge.history(who.tenant, article_id)))
        return {"versions": history_view(events)}

    @api.get("/articles")
    async def get_articles(
        who: CurrentIdentity,
        status: Annotated[str | None, Query(pattern="^(draft|published|archived)$")] = None,
        category: Annotated[str | None, Query(pattern=SLUG)] = None,
        language: Language | None = None,
        tag: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        after: Annotated[str | None, Query(max_length=200, description="`next_after` of the page before.")] = None,
    ) -> dict[str, Any]:
        """Articles (without body), the last changed first; a customer's: published, public or their own
        organisation's."""
        filters: dict[str, Any] = {"status": status, "category": category, "language": language, "tag": tag}
        if not who.principal.is_staff:
            filters["audience"] = who.principal.organisation or ""
        rows = await asyncio.to_thread(view.articles, who.tenant, filters, limit, after)
        last = rows[-1] if len(rows) == limit else None
        return {"articles": rows, "next_after": f"{last['updated_at']}/{last['id']}" if last else None}

    # -- search -----------------------------------------------------------------------------------

    @api.get("/search")
    async def get_search(
        who: CurrentIdentity,
        q: Annotated[str, Query(min_length=1, max_length=500)],
        language: Language | None = None,
        category: Annotated[str | None, Query(pattern=SLUG)] = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> dict[str, Any]:
        """Published articles the caller may read, best first, each with a snippet (`<mark>` the words found)."""
        hits = await asyncio.to_thread(search.search, view.view, who.tenant, q, audience(who), language, category,
                                       limit)  # fmt: skip
        return {"hits": [hit_view(h) for h in hits]}

    @api.post("/suggestions")
    async def post_suggestions(body: SuggestionRequest, who: CurrentIdentity) -> dict[str, Any]:
        """The best articles for a text (a ticket's title and description, a chat message); at the gateway
        also the most similar resolved tickets the caller may see."""
        hits = await asyncio.to_thread(search.suggest, view.view, who.tenant, body.text, audience(who),
                                       body.language, body.limit)  # fmt: skip
        return {"articles": [hit_view(h) for h in hits], "tickets": []}

    # -- attachments -------------------------------------------------------------------------------

    @api.post(
        "/articles/{article_id}/attachments", status_code=201, dependencies=staff, responses=openapi.problems(413)
    )
    async def post_attachment(article_id: UUID, file: UploadFile, who: CurrentIdentity) -> Any:
        """Attach a file (an image the body shows, a document); larger than the limit: 413 naming `file`."""
        await service.seen(who.tenant, article_id, audience(who))
        content = await file.read(service.max_file + 1)
        if len(content) > service.max_file:
            return problem(413, "Too large", f"a file is at most {service.max_file} bytes", field="file")
        name = (file.filename or "file")[-200:]
        kept = await asyncio.to_thread(service.files.keep, who.tenant, article_id, name,
                                       file.content_type or "application/octet-stream", content)  # fmt: skip
        await asyncio.to_thread(knowledge.attach, who.tenant, article_id, kept, who.actor)
        return JSONResponse(kept, status_code=201)

    @api.get(
        "/articles/{article_id}/attachments/{attachment_id}",
        response_class=Response,
        responses=openapi.media(200, "application/octet-stream", "The file's bytes, as attached."),
    )
    async def get_attachment(article_id: UUID, attachment_id: UUID, who: CurrentIdentity) -> Response:
        article = await service.seen(who.tenant, article_id, audience(who))
        return await download(service.files, article, attachment_id)

    # -- readers -------------------------------------------------------------------------------------

    @api.post("/articles/{article_id}/feedback", status_code=202, response_class=Response, responses=RECORDED)
    async def post_feedback(article_id: UUID, body: Feedback, who: CurrentIdentity) -> Response:
        """Did this help? (recorded as `article.rated`)"""
        await service.seen(who.tenant, article_id, audience(who))
        await asyncio.to_thread(knowledge.rated, who.tenant, article_id, body.helpful, body.channel, who.actor)
        return Response(status_code=202)

    @api.post("/articles/{article_id}/views", status_code=202, response_class=Response, responses=RECORDED)
    async def post_view(article_id: UUID, body: Reading, who: CurrentIdentity) -> Response:
        """Someone read the article (recorded as `article.viewed`)."""
        await service.seen(who.tenant, article_id, audience(who))
        await asyncio.to_thread(knowledge.viewed, who.tenant, article_id, body.channel, who.actor)
        return Response(status_code=202)

    @api.post("/deflections", status_code=202, response_class=Response, responses=RECORDED)
    async def post_deflection(body: Deflection, who: CurrentIdentity) -> Response:
        """A self-service attempt ended: solved by an article, or a ticket opened anyway (`self_service.ended`)."""
        if body.article_id is not None:
            await service.seen(who.tenant, body.article_id, audience(who))
        await asyncio.to_thread(knowledge.self_service_ended, who.tenant, body.article_id, body.channel,
                                body.outcome, who.actor)  # fmt: skip
        return Response(status_code=202)

    return api


def create_app(app: FastAPI, service: Service) -> FastAPI:
    async def stale(request: Request, error: Exception) -> JSONResponse:
        return problem(412, "Stale version", str(error), field="If-Match")

    app.add_exception_handler(VersionMismatchError, stale)
    app.include_router(public_router(service))
    app.include_router(router(service))
    return app
