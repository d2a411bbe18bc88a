"""A ticket at a glance, and working it: replies, internal notes, status moves with their reason.

Forms post, then redirect (post/redirect/get); a refused form is shown again with the API's
message beside the field it names. Each form carries an idempotency key minted when it was shown,
so a form sent twice (a double click, a retry after a timeout) is one reply, not two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.files import relayed_file
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.kb import ticket as kb_ticket
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session
from services.web.ticket import actions, time
from services.web.ticket.view import extras

ACTIONS = ("start-work", "pending", "resume", "resolve", "reopen", "close")
METRICS = {"first_response": "First response", "next_response": "Next response", "resolution": "Resolution"}


@dataclass(frozen=True)
class Message:
    id: str
    body: str
    public: bool
    author_id: str
    author_kind: str | None
    channel: str


@dataclass(frozen=True)
class Change:
    """One line of the ticket's history: who did what, when and why."""

    version: int
    event: str
    at: str
    actor: str
    reason: str | None


@dataclass(frozen=True)
class Attachment:
    id: str
    filename: str
    content_type: str
    size: int

    @property
    def image(self) -> bool:
        return self.content_type.startswith("image/") and self.content_type != "image/svg+xml"


@dataclass(frozen=True)
class Target:
    """One SLA target: its state, and when it is due (a running one) for the live countdown."""

    metric: str
    state: str
    due_at: str | None
    breached: bool
    warned: int | None = None  # the highest share of its time (percent) the SLA service warned at


@dataclass(frozen=True)
class SlaPolicy:
    """The policy the ticket's SLA clock counts by, and the calendar; `own`: the organisation's own, not the rules'."""

    policy_id: str
    calendar: str
    own: bool

    @classmethod
    def of(cls, clock: dict[str, Any] | None) -> SlaPolicy | None:
        if not clock or not clock.get("policy_id"):
            return None
        return cls(str(clock["policy_id"]), str(clock.get("calendar") or ""), clock.get("chosen_by") == "organisation")


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
    pending_until: str | None = None
    waiting_for: str | None = None
    version: int = 0
    solution: str | None = None  # the knowledge base article linked as its solution
    form_key: str = field(default_factory=forms.form_key)

    @classmethod
    def of(cls, ticket: dict[str, Any]) -> TicketPage:
        thread = [
            Message(c["id"], c["body"], bool(c["public"]), c["author_id"], c.get("author_kind"), c["channel"])
            for c in ticket.get("comments", [])
        ]
        return cls(
            str(ticket["id"]),
            ticket["number"],
            ticket["title"],
            ticket["description"],
            ticket["status"],
            ticket.get("status_reason", ""),
            ticket["priority"],
            ticket["category"],
            ticket["type"],
            ticket["requester_id"],
            ticket.get("organisation"),
            ticket.get("group_id"),
            ticket.get("agent_id"),
            ticket.get("assignment_decision") is not None,
            list(ticket.get("tags", [])),
            thread,
            ticket.get("pending_until"),
            ticket.get("waiting_for"),
            int(ticket.get("version", 0)),
            ticket.get("solution"),
        )


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def show(
        request: Request,
        session: Session,
        ticket_id: str,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        typed: dict[str, str] | None = None,
        as_of: str | None = None,
    ) -> Response:
        token = session.access_token
        instant = _instant(as_of, session.time_zone) if as_of else None
        try:
            # The ticket carries its attachments (as of `instant` too): no call of their own.
            ticket, history, verification, clock, routed_because = await asyncio.gather(
                gateway.ticket(token, ticket_id, instant),
                gateway.history(token, ticket_id),
                gateway.verification(token, ticket_id),
                gateway.clock(token, ticket_id) if session.is_staff and instant is None else _nothing(),
                gateway.routing_reason(token, ticket_id) if session.is_staff else _nothing(),
            )
        except GatewayError as error:
            if error.status == 404:
                return render(request, "not_found.html", session, 404, queues=queues_of(session))
            raise
        changes = [Change(e["version"], e["event"], e["at"], e["actor"], e.get("reason")) for e in history]
        files = [
            Attachment(a["id"], a["filename"], a["content_type"], a["size"]) for a in ticket.get("attachments", [])
        ]
        more = await extras(gateway, session, ticket, typed or {}, live=instant is None)
        targets = [
            Target(
                _(METRICS.get(m, m)),
                t["state"],
                t.get("due_at"),
                bool(t.get("breached")),
                max(t.get("warned_at_percent") or [0]) or None,
            )
            for m, t in (clock or {}).get("metrics", {}).items()
        ]
        return render(
            request,
            "ticket.html",
            session,
            status_code,
            queues=queues_of(session),
            ticket=TicketPage.of(ticket),
            errors=errors or {},
            typed=typed or {},
            history=changes,
            verification=verification,
            attachments=files,
            targets=targets,
            sla_policy=SlaPolicy.of(clock),
            routed_because=routed_because,
            as_of=instant,
            as_of_typed=as_of or "",
            blocks=("thread", "facts", "history", "live"),  # live: the three at once, out of band
            **more,
        )

    @pages.get("/tickets/{ticket_id}")
    async def ticket(request: Request, ticket_id: str, as_of: str | None = None, session: Session = person) -> Response:
        return await show(request, session, ticket_id, as_of=as_of or None)

    @pages.get("/tickets/{ticket_id}/attachments/{attachment_id}")
    async def download(request: Request, ticket_id: str, attachment_id: str, session: Session = person) -> Response:
        answer = await gateway.download(session.access_token, ticket_id, attachment_id)
        return relayed_file(answer)

    @pages.post("/tickets/{ticket_id}/attachments")
    async def upload(
        request: Request,
        ticket_id: str,
        file: UploadFile,
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        if not file.filename:
            return await show(request, session, ticket_id, {"file": _("Choose a file first.")}, 422)
        kind, key = file.content_type or "application/octet-stream", form_key or forms.form_key()
        upload = gateway.attach(session.access_token, ticket_id, file.filename, kind, await file.read(), key)
        return await done(request, session, ticket_id, upload, "file", {})

    @pages.post("/tickets/{ticket_id}/assignment")
    async def assign(
        request: Request,
        ticket_id: str,
        group_id: Annotated[str, Form()] = "",
        agent_id: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        if not group_id.strip():
            errors = {"group_id": _("Name the group.")}
            return await show(request, session, ticket_id, errors, 422, {"group_id": group_id, "agent_id": agent_id})
        body = {
            "group_id": group_id.strip(),
            "agent_id": agent_id.strip() or None,
            "reason": reason or _("assigned in the workspace"),
        }
        assignment = gateway.assign(session.access_token, ticket_id, body)
        return await done(
            request, session, ticket_id, assignment, "group_id", {"group_id": group_id, "agent_id": agent_id}
        )

    @pages.post("/tickets/{ticket_id}/reply")
    async def reply(
        request: Request,
        ticket_id: str,
        body: Annotated[str, Form()] = "",
        kind: Annotated[str, Form()] = "reply",
        time_minutes: Annotated[str, Form()] = "",
        time_activity: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        """A reply or note, with the minutes worked on it when given (one save)."""
        forms.check_form_token(session, csrf_token)
        typed = {"body": body, "kind": kind, "time_minutes": time_minutes, "time_activity": time_activity}
        if not body.strip():
            errors = {"body": _("Write something first.")}
            return await show(request, session, ticket_id, errors, 422, typed)
        entry = time.entry_of(time_minutes, time_activity) if time_minutes.strip() else None
        key = form_key or forms.form_key()
        comment = gateway.comment(session.access_token, ticket_id, body, kind != "note", key, entry)
        try:
            await comment
        except GatewayError as error:
            return await show(request, session, ticket_id, time.beside_reply(error), 422, typed)
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)

    @pages.post("/tickets/{ticket_id}/status")
    async def move(
        request: Request,
        ticket_id: str,
        action: Annotated[str, Form()],
        reason: Annotated[str, Form()] = "",
        resolution: Annotated[str, Form()] = "",
        until: Annotated[str, Form()] = "",
        waiting_for: Annotated[str, Form()] = "customer",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        if action not in ACTIONS:
            return await show(request, session, ticket_id, {"action": _("Choose a status.")}, 422)
        payload: dict[str, Any] = {"reason": reason or _("changed in the workspace")}
        if action == "resolve":
            payload["resolution"] = resolution or reason or _("resolved")
        if action == "pending":
            if not until:
                return await show(
                    request, session, ticket_id, {"until": _("Choose until when.")}, 422, {"reason": reason}
                )
            payload |= {"until": _instant(until, session.time_zone), "waiting_for": waiting_for}
        moved = gateway.act(session.access_token, ticket_id, action, payload, form_key or forms.form_key())
        return await done(request, session, ticket_id, moved, "reason", {"reason": reason})

    async def done(
        request: Request, session: Session, ticket_id: str, change: Awaitable[object], field: str, typed: dict[str, str]
    ) -> Response:
        """The change made, then back to the ticket (post/redirect/get); refused, the form again with the
        API's reason beside `field` and what was typed kept."""
        try:
            await change
        except GatewayError as error:
            return await show(request, session, ticket_id, _beside(error, field), 422, typed)
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)

    pages.include_router(actions.router(gateway, person, show))
    pages.include_router(kb_ticket.router(gateway, person, show))
    return pages


async def _nothing() -> None:
    return None


def _instant(typed: str, zone: str) -> str:
    """A `datetime-local` value, read in the person's time zone, as an ISO 8601 instant."""
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        return typed  # the API names what is wrong with it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.isoformat()


FIELDS = ("body", "reason", "resolution", "action", "until", "group_id", "agent_id", "file")


def _beside(error: GatewayError, default: str) -> dict[str, str]:
    return forms.beside(error, FIELDS, default)
