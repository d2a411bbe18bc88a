"""The tenant's knowledge base on the portal, open to anyone: categories, articles, search, and
"did this help?". A signed-in customer reads through their own token (their organisation's
articles too); anyone else through the anonymous public API (public articles only)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web.files import relayed_file
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.portal.visitor import Visitor

CHANNEL = "portal"
PUBLISHED = {"status": "published"}  # a member of staff at the portal reads what customers read, no drafts


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    parent: str | None
    position: int


def categories_of(found: dict[str, Any], language: str) -> list[Category]:
    """The categories in their order, each named in the reader's language (else any it has)."""
    named = [
        Category(
            c["slug"],
            (c.get("names") or {}).get(language) or next(iter((c.get("names") or {}).values()), c["slug"]),
            c.get("parent"),
            int(c.get("position") or 0),
        )
        for c in found.get("categories", [])
    ]
    return sorted(named, key=lambda c: (c.position, c.name))


def router(gateway: Gateway, reader: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def categories(who: Visitor) -> list[Category]:
        return categories_of(await gateway.kb_get(who.reader, "categories"), who.language)

    async def page(request: Request, who: Visitor, template: str, status_code: int = 200, **view: Any) -> Response:
        return render(request, template, who.session, status_code, who=who, **view)

    async def missing(request: Request, who: Visitor) -> Response:
        return await page(request, who, "portal/missing.html", 404, title=_("Not found"))

    @pages.get("/t/{tenant}/")
    @pages.get("/t/{tenant}")
    async def home(request: Request, who: Visitor = reader) -> Response:
        found = await categories(who)
        listed = await gateway.kb_get(who.reader, "articles", {"language": who.language, **PUBLISHED})
        return await page(
            request, who, "portal/home.html", categories=found, articles=listed.get("articles", []), title=_("Help")
        )

    @pages.get("/t/{tenant}/categories/{slug}")
    async def category(request: Request, slug: str, who: Visitor = reader) -> Response:
        every = await categories(who)
        chosen = next((c for c in every if c.slug == slug), None)
        if chosen is None:
            return await missing(request, who)
        wanted = {"category": slug, "language": who.language, **PUBLISHED}
        listed = await gateway.kb_get(who.reader, "articles", wanted)
        return await page(
            request,
            who,
            "portal/category.html",
            category=chosen,
            parent=next((c for c in every if c.slug == chosen.parent), None),
            children=[c for c in every if c.parent == slug],
            articles=listed.get("articles", []),
            title=chosen.name,
        )

    @pages.get("/t/{tenant}/search")
    async def search(request: Request, q: str = "", who: Visitor = reader) -> Response:
        words = q.strip()
        found = await gateway.kb_get(who.reader, "search", {"q": words, "language": who.language}) if words else {}
        return await page(
            request, who, "portal/search.html", searched=words, hits=found.get("hits", []), title=_("Search")
        )

    @pages.get("/t/{tenant}/articles/{article_id}")
    async def article(request: Request, article_id: str, who: Visitor = reader) -> Response:
        try:
            shown = await gateway.kb_get(who.reader, f"articles/{article_id}")
        except GatewayError as error:
            if error.status in (403, 404, 422):
                return await missing(request, who)
            raise
        await record_view(who, article_id)
        every = await categories(who)
        return await page(
            request,
            who,
            "portal/article.html",
            article=shown,
            category=next((c for c in every if c.slug == shown.get("category")), None),
            rated=request.query_params.get("rated"),
            title=shown["title"],
            blocks=("feedback",),
        )

    async def record_view(who: Visitor, article_id: str) -> None:
        """One read; a view that cannot be recorded now does not keep the article from its reader."""
        with contextlib.suppress(GatewayError):
            await gateway.kb_post(who.reader, f"articles/{article_id}/views", {"channel": CHANNEL})

    @pages.get("/t/{tenant}/articles/{article_id}/attachments/{attachment_id}")
    async def attachment(request: Request, article_id: str, attachment_id: str, who: Visitor = reader) -> Response:
        answer = await gateway.kb_download(who.reader, article_id, attachment_id)
        return relayed_file(answer)

    @pages.post("/t/{tenant}/articles/{article_id}/feedback")
    async def feedback(
        request: Request,
        article_id: str,
        helpful: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        who: Visitor = reader,
    ) -> Response:
        who.check(csrf_token)
        said = helpful == "yes"
        path = f"articles/{article_id}/feedback"
        await gateway.kb_post(who.reader, path, {"helpful": said, "channel": CHANNEL})
        rated = "yes" if said else "no"
        if request.headers.get("HX-Request"):
            return render(request, "portal/feedback.html", who.session, who=who, rated=rated)
        return RedirectResponse(f"{who.base}/articles/{article_id}?rated={rated}", status_code=303)

    return pages
