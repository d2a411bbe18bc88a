"""A ticket at a glance, and working it: replies, internal notes, status moves with their reason.

Forms post, then redirect (post/redirect/get); a refused form is shown again with the API's
message beside the field it names. Each form carries an idempotency key minted when it was shown,
so a form sent twice (a double click, a retry after a timeout) is one reply, not two.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session
from services.web.signin import check_form_token

ACTIONS = ("start-work", "pending", "resume", "resolve", "reopen", "close")


@dataclass(frozen=True)
class Message:
    id: str
    body: str
    public: bool
    author_id: str
    author_kind: str | None
    channel: str


@dataclass(frozen=True)
class TicketPage:
    """What the ticket page shows, prepared from the API's answer."""

    id: str
    number: str
    title: str
    description: str
    status: str
    status_reason: str
    priority: str
    category: str
    type: str
    requester_id: str
    organisation: str | None
    group_id: str | None
    agent_id: str | None
    routed: bool
    tags: list[str]
    thread: list[Message]
    form_key: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    @classmethod
    def of(cls, ticket: dict[str, Any]) -> TicketPage:
        thread = [Message(c["id"], c["body"], bool(c["public"]), c["author_id"], c.get("author_kind"), c["channel"])
                  for c in ticket.get("comments", [])]  # fmt: skip
        return cls(
            str(ticket["id"]), ticket["number"], ticket["title"], ticket["description"], ticket["status"],
            ticket.get("status_reason", ""), ticket["priority"], ticket["category"], ticket["type"],
            ticket["requester_id"], ticket.get("organisation"), ticket.get("group_id"), ticket.get("agent_id"),
            ticket.get("assignment_decision") is not None, list(ticket.get("tags", [])), thread,
        )  # fmt: skip


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def show(request: Request, session: Session, ticket_id: str, errors: dict[str, str] | None = None,
                   status_code: int = 200, typed: dict[str, str] | None = None) -> Response:  # fmt: skip
        try:
            ticket = await gateway.ticket(session.access_token, ticket_id)
        except GatewayError as error:
            if error.status == 404:
                return render(request, "not_found.html", session, 404, queues=queues_of(session))
            raise
        return render(request, "ticket.html", session, status_code, queues=queues_of(session),
                      ticket=TicketPage.of(ticket), errors=errors or {}, typed=typed or {},
                      blocks=("thread",))  # fmt: skip

    @pages.get("/tickets/{ticket_id}")
    async def ticket(request: Request, ticket_id: str, session: Session = person) -> Response:
        return await show(request, session, ticket_id)

    @pages.post("/tickets/{ticket_id}/reply")
    async def reply(
        request: Request, ticket_id: str, body: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "reply",
        form_key: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "", session: Session = person,
    ) -> Response:  # fmt: skip
        check_form_token(session, csrf_token)
        if not body.strip():
            errors = {"body": _("Write something first.")}
            return await show(request, session, ticket_id, errors, 422, {"body": body})
        try:
            await gateway.comment(session.access_token, ticket_id, body, kind != "note", form_key or _key())
        except GatewayError as error:
            return await show(request, session, ticket_id, _beside(error, "body"), 422, {"body": body})
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)

    @pages.post("/tickets/{ticket_id}/status")
    async def move(
        request: Request, ticket_id: str, action: Annotated[str, Form()], reason: Annotated[str, Form()] = "",
        resolution: Annotated[str, Form()] = "", form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "", session: Session = person,
    ) -> Response:  # fmt: skip
        check_form_token(session, csrf_token)
        if action not in ACTIONS:
            return await show(request, session, ticket_id, {"action": _("Choose a status.")}, 422)
        payload: dict[str, Any] = {"reason": reason or _("changed in the workspace")}
        if action == "resolve":
            payload["resolution"] = resolution or reason or _("resolved")
        try:
            await gateway.act(session.access_token, ticket_id, action, payload, form_key or _key())
        except GatewayError as error:
            return await show(request, session, ticket_id, _beside(error, "reason"), 422, {"reason": reason})
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)

    return pages


def _key() -> str:
    return secrets.token_urlsafe(16)


def _beside(error: GatewayError, default: str) -> dict[str, str]:
    """The API's message, beside the field its problem names (else beside `default`)."""
    problem = error.problem
    named = problem.get("field") or next((e.get("field") for e in problem.get("errors", []) if e.get("field")), None)
    where = str(named).split(".")[-1] if named else default
    return {where if where in ("body", "reason", "resolution", "action") else default: str(error)}
