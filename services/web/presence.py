"""An agent's presence in the header: online, away or offline, which routing honours (online takes
waiting tickets, away takes nothing new, offline gives back what was not started).

The header loads it after the page (htmx `hx-trigger="load"`), so a page never waits for routing;
a change posts the form and the widget answers with itself.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.gateway_client import Gateway, GatewayError
from services.web.pages import render
from services.web.sessions import Session

PRESENCES = ("online", "away", "offline")


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/presence")
    async def show(request: Request, session: Session = person) -> Response:
        presence = await gateway.presence(session.access_token, session.subject) if session.is_staff else None
        return render(request, "presence.html", session, presence=presence, presences=PRESENCES)

    @pages.post("/presence")
    async def change(
        request: Request,
        presence: Annotated[str, Form()],
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        error = None
        try:
            presence = await gateway.set_presence(session.access_token, session.subject, presence)
        except GatewayError as refused:
            error = str(refused)
        if not request.headers.get("HX-Request"):  # a plain form (no script yet): back to the page it was on
            back = urlsplit(request.headers.get("referer", "/")).path or "/"  # this site's page, never another's
            return RedirectResponse(back if error is None and back.startswith("/") else "/", status_code=303)
        return render(request, "presence.html", session, presence=presence, presences=PRESENCES, error=error)

    return pages
