"""A customer's new request on the portal: the form with the tenant's custom fields and files, the
articles it suggests while they type, and the two ends of that self-service attempt: "this solved
it" (a deflection, no ticket) or the request sent anyway (`ticket_opened`)."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.portal.knowledge import CHANNEL
from services.web.portal.visitor import Visitor
from services.web.ticket.classification import field_values
from services.web.ticket.common import placed
from services.web.ticket.view import FieldInput

SUGGESTED = 5


def inputs(definitions: dict[str, dict[str, Any]], typed: dict[str, str]) -> list[FieldInput]:
    return [
        FieldInput(
            key,
            str(spec.get("label") or key),
            str(spec.get("kind") or "text"),
            bool(spec.get("required")),
            list(spec.get("choices") or []),
            "",
            typed.get(f"cf-{key}", ""),
        )
        for key, spec in definitions.items()
    ]


def router(gateway: Gateway, customer: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def form_page(
        request: Request, who: Visitor, typed: dict[str, str], errors: dict[str, str], status_code: int = 200
    ) -> Response:
        definitions = await gateway.fields(str(who.token))
        return render(
            request,
            "portal/request.html",
            who.session,
            status_code,
            who=who,
            typed=typed,
            errors=errors,
            fields=inputs(definitions, typed),
            form_key=typed.get("form_key") or forms.form_key(),
            title=_("New request"),
        )

    @pages.get("/t/{tenant}/tickets/new")
    async def new(request: Request, who: Visitor = customer) -> Response:
        return await form_page(request, who, {}, {})

    @pages.post("/t/{tenant}/tickets/suggestions")
    async def suggestions(request: Request, who: Visitor = customer) -> Response:
        """The best articles for what is typed so far (the form asks, debounced, as the customer types)."""
        form = await request.form()
        who.check(str(form.get("csrf_token") or ""))
        text = " ".join(str(form.get(name) or "") for name in ("title", "description")).strip()
        found: dict[str, Any] = {}
        if len(text) >= 3:
            body = {"text": text, "language": who.language, "limit": SUGGESTED}
            with contextlib.suppress(GatewayError):  # the knowledge base down: the form still sends
                found = await gateway.kb_post(who.reader, "suggestions", body)
        articles, tickets = found.get("articles", []), found.get("tickets", [])
        return render(request, "portal/suggestions.html", who.session, who=who, articles=articles, tickets=tickets)

    @pages.post("/t/{tenant}/tickets/solved")
    async def solved(request: Request, who: Visitor = customer) -> Response:
        """An article answered it: the attempt ends as a deflection, and no ticket is opened."""
        form = await request.form()
        who.check(str(form.get("csrf_token") or ""))
        article_id = str(form.get("article_id") or "") or None
        body = {"channel": CHANNEL, "article_id": article_id, "outcome": "solved"}
        await gateway.kb_post(who.reader, "deflections", body)
        return render(request, "portal/solved.html", who.session, who=who, title=_("Glad it helped"))

    @pages.post("/t/{tenant}/tickets")
    async def send(request: Request, who: Visitor = customer) -> Response:
        form = await request.form()
        who.check(str(form.get("csrf_token") or ""))
        definitions = await gateway.fields(str(who.token))
        typed = {name: str(form.get(name) or "").strip() for name in ("title", "description", "form_key")}
        typed |= {f"cf-{key}": str(form.get(f"cf-{key}") or "").strip() for key in definitions}
        if not typed["title"]:
            return await form_page(request, who, typed, {"title": _("Say in a few words what you need.")}, 422)
        body = {
            "title": typed["title"],
            "description": typed["description"],
            "requester_id": who.session.subject if who.session else "",
            "channel": CHANNEL,
            "custom_fields": field_values(definitions, typed),
            "language": who.language,  # the one the portal speaks to them in: the ticket's (triggers match it)
        }
        key = typed["form_key"] or forms.form_key()
        try:
            opened = await gateway.open_ticket(str(who.token), body, key)
            await attach_all(who, str(opened["id"]), files(form), key)
        except GatewayError as error:
            errors = placed(error, "title")
            return await form_page(request, who, typed, errors, 422)
        if form.get("suggested"):
            await ended_anyway(who)
        return RedirectResponse(f"{who.base}/tickets/{opened['id']}", status_code=303)

    async def attach_all(who: Visitor, ticket_id: str, chosen: list[UploadFile], key: str) -> None:
        for n, file in enumerate(chosen):
            kind = file.content_type or "application/octet-stream"
            content = await file.read()
            await gateway.attach(str(who.token), ticket_id, str(file.filename), kind, content, f"{key}-file-{n}")

    async def ended_anyway(who: Visitor) -> None:
        """Articles were suggested and the request was sent all the same; not counted if it cannot be now."""
        body = {"channel": CHANNEL, "article_id": None, "outcome": "ticket_opened"}
        with contextlib.suppress(GatewayError):
            await gateway.kb_post(who.reader, "deflections", body)

    return pages


def files(form: FormData) -> list[UploadFile]:
    """The files chosen (a form with none still sends one empty part)."""
    return [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
