"""Merging a ticket into another (by its number, after a confirmation naming both), linking it to
another, and splitting one of its messages off into a new ticket."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from services.web import forms
from services.web.gateway_client import Gateway
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session
from services.web.ticket.common import Show, then_back
from services.web.ticket.lookup import other_ticket
from services.web.ticket.view import LINK_KINDS


def router(gateway: Gateway, person: Any, show: Show) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.post("/tickets/{ticket_id}/merge")
    async def merge(
        request: Request,
        ticket_id: str,
        into: Annotated[str, Form()] = "",
        reason: Annotated[str, Form(alias="merge-reason")] = "",
        confirmed: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        """First the confirmation naming both tickets; confirmed, the merge."""
        forms.check_form_token(session, csrf_token)
        token, typed = session.access_token, {"into": into, "merge-reason": reason}
        target = await other_ticket(gateway, token, into)
        if target is None:
            errors = {"into": _("No ticket of that number that you can see.")}
            return await show(request, session, ticket_id, errors, 422, typed)
        if str(target["id"]) == ticket_id:
            return await show(request, session, ticket_id, {"into": _("That is this ticket.")}, 422, typed)
        why = reason.strip() or _("merged in the workspace")
        if confirmed != "yes":
            source = await gateway.ticket(token, ticket_id)
            return render(
                request,
                "ticket_merge.html",
                session,
                queues=queues_of(session),
                source=source,
                target=target,
                reason=why,
                form_key=forms.form_key(),
            )
        merged = gateway.act(token, ticket_id, "merge", {"into": str(target["id"]), "reason": why}, form_key)
        return await then_back(show, request, session, ticket_id, merged, "into", typed)

    @pages.post("/tickets/{ticket_id}/links")
    async def link(
        request: Request,
        ticket_id: str,
        other: Annotated[str, Form()] = "",
        kind: Annotated[str, Form()] = "related",
        reason: Annotated[str, Form(alias="link-reason")] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        typed = {"other": other, "kind": kind, "link-reason": reason}
        target = await other_ticket(gateway, session.access_token, other)
        if target is None:
            errors = {"other": _("No ticket of that number that you can see.")}
            return await show(request, session, ticket_id, errors, 422, typed)
        if kind not in LINK_KINDS:
            return await show(request, session, ticket_id, {"kind": _("Choose how they relate.")}, 422, typed)
        why = reason.strip() or _("linked in the workspace")
        linked = gateway.link(
            session.access_token, ticket_id, str(target["id"]), kind, why, form_key or forms.form_key()
        )
        return await then_back(show, request, session, ticket_id, linked, "other", typed)

    @pages.post("/tickets/{ticket_id}/comments/{comment_id}/split")
    async def split(
        request: Request,
        ticket_id: str,
        comment_id: str,
        title: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        """The message becomes a new ticket, linked to this one; the agent stays here, the new one listed."""
        forms.check_form_token(session, csrf_token)
        typed = {"title": title, "comment_id": comment_id}
        if not title.strip():
            errors = {"title": _("Give the new ticket a title.")}
            return await show(request, session, ticket_id, errors, 422, typed)
        made = gateway.split(session.access_token, ticket_id, comment_id, title.strip(), form_key or forms.form_key())
        return await then_back(show, request, session, ticket_id, made, "title", typed)

    return pages
