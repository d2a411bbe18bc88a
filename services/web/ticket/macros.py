"""Macros in the ticket's reply box: a list filtered as the agent types (htmx), chosen with the arrow keys;
"Apply" runs the chosen macro (its reply and its actions, once per showing of the form), "Insert" puts its
text, rendered for this ticket, into the reply box to edit before sending."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from services.web import forms
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.sessions import Session
from services.web.ticket.common import Show, then_back


def router(gateway: Gateway, person: Any, show: Show) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/tickets/{ticket_id}/macros")
    async def options(request: Request, ticket_id: str, q: str = "", session: Session = person) -> Response:
        """The macros whose title or text has `q`: the list's options, for htmx to swap in."""
        macros = await gateway.macros(session.access_token, q=q.strip() or None)
        return render(request, "ticket_macro_options.html", session, macros=macros, searched=q)

    @pages.post("/tickets/{ticket_id}/macros/apply")
    async def apply(
        request: Request,
        ticket_id: str,
        macro_id: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        if not macro_id:
            return await show(request, session, ticket_id, {"macro_id": _("Choose a macro.")}, 422)
        applying = gateway.apply_macro(session.access_token, ticket_id, macro_id, form_key or forms.form_key())
        return await then_back(show, request, session, ticket_id, applying, "macro_id", {})

    @pages.post("/tickets/{ticket_id}/macros/insert")
    async def insert(
        request: Request,
        ticket_id: str,
        macro_id: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        """The page again, its reply box holding the macro's text (nothing is sent or changed)."""
        forms.check_form_token(session, csrf_token)
        if not macro_id:
            return await show(request, session, ticket_id, {"macro_id": _("Choose a macro.")}, 422)
        try:
            preview = await gateway.preview_macro(session.access_token, ticket_id, macro_id)
        except GatewayError as error:
            return await show(request, session, ticket_id, {"macro_id": str(error)}, 422)
        kind = "note" if preview["visibility"] == "internal" else "reply"
        return await show(request, session, ticket_id, None, 200, {"body": preview["body"], "kind": kind})

    return pages
