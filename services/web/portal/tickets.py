"""A customer's requests on the portal: their own and their organisation's (whatever the API lets them
see), each with its public thread (the API gives a customer no internal note), a reply box, files,
reopening, and the satisfaction survey the e-mail links to, answered in one click."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.files import relayed_file
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.portal.visitor import Visitor
from services.web.tickets import Attachment, TicketPage

SCORES = (1, 2, 3, 4, 5)


def router(gateway: Gateway, customer: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/t/{tenant}/tickets")
    async def listed(request: Request, whose: str = "mine", who: Visitor = customer) -> Response:
        token = str(who.token)
        mine = whose != "organisation"
        subject = who.session.subject if who.session else None
        found = await gateway.tickets(token, requester_id=subject if mine else None, order="-created_at", limit=100)
        tickets = found.get("tickets", [])
        if not mine:  # the organisation's: the ones the API shows besides the customer's own
            tickets = [t for t in tickets if t.get("requester_id") != subject]
        return render(
            request,
            "portal/tickets.html",
            who.session,
            who=who,
            tickets=tickets,
            mine=mine,
            organisation=who.session.organisation if who.session else None,
            title=_("My requests"),
        )

    async def show(
        request: Request, who: Visitor, ticket_id: str, errors: dict[str, str] | None = None, status_code: int = 200
    ) -> Response:
        try:
            ticket = await gateway.ticket(str(who.token), ticket_id)
        except GatewayError as error:
            if error.status in (403, 404, 422):
                return render(request, "portal/missing.html", who.session, 404, who=who, title=_("Not found"))
            raise
        shown = TicketPage.of(ticket)
        files = [Attachment(a["id"], a["filename"], a["content_type"], a["size"]) for a in ticket["attachments"]]
        return render(
            request,
            "portal/ticket.html",
            who.session,
            status_code,
            who=who,
            ticket=shown,
            thread=[m for m in shown.thread if m.public],  # the API sends none other to a customer; never shown
            attachments=files,
            rating=ticket.get("rating"),
            errors=errors or {},
            scores=SCORES,
            title=f"{shown.number} · {shown.title}",
        )

    @pages.get("/t/{tenant}/tickets/{ticket_id}")
    async def ticket(request: Request, ticket_id: str, who: Visitor = customer) -> Response:
        return await show(request, who, ticket_id)

    async def done(request: Request, who: Visitor, ticket_id: str, change: Awaitable[object], field: str) -> Response:
        try:
            await change
        except GatewayError as error:
            return await show(request, who, ticket_id, forms.beside(error, (field,), field), 422)
        return RedirectResponse(f"{who.base}/tickets/{ticket_id}", status_code=303)

    @pages.post("/t/{tenant}/tickets/{ticket_id}/reply")
    async def reply(
        request: Request,
        ticket_id: str,
        body: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        who: Visitor = customer,
    ) -> Response:
        who.check(csrf_token)
        if not body.strip():
            return await show(request, who, ticket_id, {"body": _("Write something first.")}, 422)
        sent = gateway.comment(str(who.token), ticket_id, body, True, form_key or forms.form_key())
        return await done(request, who, ticket_id, sent, "body")

    @pages.post("/t/{tenant}/tickets/{ticket_id}/attachments")
    async def upload(
        request: Request,
        ticket_id: str,
        file: UploadFile,
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        who: Visitor = customer,
    ) -> Response:
        who.check(csrf_token)
        if not file.filename:
            return await show(request, who, ticket_id, {"file": _("Choose a file first.")}, 422)
        kind, key = file.content_type or "application/octet-stream", form_key or forms.form_key()
        added = gateway.attach(str(who.token), ticket_id, file.filename, kind, await file.read(), key)
        return await done(request, who, ticket_id, added, "file")

    @pages.get("/t/{tenant}/tickets/{ticket_id}/attachments/{attachment_id}")
    async def download(request: Request, ticket_id: str, attachment_id: str, who: Visitor = customer) -> Response:
        answer = await gateway.download(str(who.token), ticket_id, attachment_id)
        return relayed_file(answer)

    @pages.post("/t/{tenant}/tickets/{ticket_id}/reopen")
    async def reopen(
        request: Request,
        ticket_id: str,
        reason: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        who: Visitor = customer,
    ) -> Response:
        who.check(csrf_token)
        if not reason.strip():
            return await show(request, who, ticket_id, {"reason": _("Say why it is not solved.")}, 422)
        moved = gateway.act(str(who.token), ticket_id, "reopen", {"reason": reason}, form_key or forms.form_key())
        return await done(request, who, ticket_id, moved, "reason")

    @pages.get("/t/{tenant}/tickets/{ticket_id}/rating")
    async def survey(request: Request, ticket_id: str, who: Visitor = customer) -> Response:
        """Where the survey e-mail's link leads: the request, its five scores one click each."""
        return await show(request, who, ticket_id)

    @pages.post("/t/{tenant}/tickets/{ticket_id}/rating")
    async def rate(
        request: Request,
        ticket_id: str,
        score: Annotated[int, Form()] = 0,
        comment: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        who: Visitor = customer,
    ) -> Response:
        who.check(csrf_token)
        if score not in SCORES:
            return await show(request, who, ticket_id, {"score": _("Choose from 1 to 5.")}, 422)
        body = {"score": score, "comment": comment.strip()}
        rated = gateway.act(str(who.token), ticket_id, "rating", body, forms.form_key())
        return await done(request, who, ticket_id, rated, "score")

    return pages
