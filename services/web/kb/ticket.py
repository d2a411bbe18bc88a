"""The knowledge base on the ticket page: the articles suggested for the ticket (or found by words),
an article linked as the ticket's solution, and an article's text put into the reply box after what
the agent has typed (the box's text comes with the form, so nothing typed is lost)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.kb.common import staff_only
from services.web.pages import render
from services.web.sessions import Session

Show = Callable[..., Awaitable[Response]]  # the ticket page (tickets.router's `show`)
SUGGESTED = 5


def router(gateway: Gateway, person: Any, show: Show) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    staff = staff_only(person)

    @pages.get("/tickets/{ticket_id}/articles")
    async def suggested(request: Request, ticket_id: str, q: str = "", session: Session = staff) -> Response:
        """The ticket page's part of suggested articles (htmx loads it after the page): for its title and
        description, or for the words the agent typed."""
        token = session.access_token
        ticket = await gateway.ticket(token, ticket_id)
        tickets: list[dict[str, Any]] = []
        try:
            if q.strip():
                hits = await gateway.kb_search(token, q.strip(), limit=10)
            else:
                found = await gateway.kb_suggestions(
                    token, f"{ticket['title']}\n{ticket['description']}", None, SUGGESTED
                )
                hits, tickets = list(found["articles"]), [t for t in found.get("tickets", []) if t["id"] != ticket_id]
            unavailable = False
        except GatewayError:
            hits, unavailable = [], True
        return render(
            request,
            "kb_suggestions.html",
            session,
            ticket=ticket,
            hits=hits,
            similar=tickets,
            searched_kb=q,
            unavailable=unavailable,
            solution=ticket.get("solution"),
            form_key=forms.form_key(),
        )

    @pages.post("/tickets/{ticket_id}/solution")
    async def solution(
        request: Request,
        ticket_id: str,
        article_id: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = staff,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        if not article_id.strip():
            return await show(request, session, ticket_id, {"solution": _("Choose an article.")}, 422)
        try:
            await gateway.solve(session.access_token, ticket_id, article_id.strip(), form_key or forms.form_key())
        except GatewayError as error:
            return await show(request, session, ticket_id, {"solution": str(error)}, 422)
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)

    @pages.post("/tickets/{ticket_id}/reply/article")
    async def insert(
        request: Request,
        ticket_id: str,
        article_id: Annotated[str, Form()] = "",
        body: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = staff,
    ) -> Response:
        """The reply box again, holding what was typed and then the article's text and its link."""
        forms.check_form_token(session, csrf_token)
        article = await gateway.kb_article(session.access_token, article_id)
        inserted = f"{article['title']}\n\n{str(article.get('body') or '').strip()}"
        if link := public_link(request, session, article):
            inserted += f"\n\n{link}"
        typed = body.rstrip()
        return await show(
            request, session, ticket_id, None, 200, {"body": f"{typed}\n\n{inserted}" if typed else inserted}
        )

    return pages


def public_link(request: Request, session: Session, article: dict[str, Any]) -> str | None:
    """Where the customer reads the article: the portal's page of it; none for an internal article."""
    if article.get("visibility") == "internal":
        return None
    return str(request.base_url.replace(path=f"/t/{session.tenant}/articles/{article['id']}", query=""))
