"""Escalating a ticket, with the agent's reason, to the next tier's group: routing chooses the group
(the current group's `escalates_to`) and reassigns it there, even over a person's assignment."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session
from services.web.ticket.common import Show, placed


def router(gateway: Gateway, person: Any, show: Show) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.post("/tickets/{ticket_id}/escalation")
    async def escalate(
        request: Request,
        ticket_id: str,
        reason: Annotated[str, Form(alias="escalate-reason")] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        typed = {"escalate-reason": reason}
        if not reason.strip():
            errors = {"escalate-reason": _("Say why it needs the next tier.")}
            return await show(request, session, ticket_id, errors, 422, typed)
        try:
            placed_in = await gateway.escalate(
                session.access_token, ticket_id, reason.strip(), form_key or forms.form_key()
            )
        except GatewayError as error:
            return await show(request, session, ticket_id, placed(error, "escalate-reason"), 422, typed)
        group = str(placed_in.get("group_id") or "")
        if "admin" in session.roles or group in session.groups:  # they still see it: back to the ticket
            return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
        return RedirectResponse(f"/tickets/{ticket_id}/escalated?to={quote(group)}", status_code=303)

    @pages.get("/tickets/{ticket_id}/escalated")
    async def escalated(request: Request, ticket_id: str, to: str = "", session: Session = person) -> Response:
        """The ticket left the agent's groups: said so, since its page is no longer theirs to open."""
        return render(request, "ticket_escalated.html", session, queues=queues_of(session), group=to)

    return pages
