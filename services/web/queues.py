"""The queues an agent works from: their own tickets, waiting on the customer, all they may see.

Each is one call to the gateway's ticket list with the person's token; the API applies who may see
what (services/intake/tickets/access.py), so a queue never shows a ticket the person may not open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.web.gateway_client import Gateway
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.sessions import Session


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    filters: dict[str, str]


def queues_of(session: Session) -> list[Queue]:
    if not session.is_staff:  # a customer's own requests (the API shows them nothing else)
        return [Queue("mine", _("My requests"), {"requester_id": session.subject})]
    return [
        Queue("mine", _("My tickets"), {"agent_id": session.subject}),
        Queue("pending", _("Waiting on the customer"), {"status": "pending"}),
        Queue("all", _("All tickets"), {}),
    ]


@dataclass(frozen=True)
class Row:
    """One ticket as a queue shows it."""

    id: str
    number: str
    title: str
    status: str
    priority: str
    group_id: str | None
    agent_id: str | None
    created_at: str | None


def row_of(ticket: dict[str, Any]) -> Row:
    return Row(
        str(ticket["id"]),
        str(ticket.get("number") or ""),
        str(ticket.get("title") or ""),
        str(ticket.get("status") or ""),
        str(ticket.get("priority") or ""),
        ticket.get("group_id"),
        ticket.get("agent_id"),
        ticket.get("created_at"),
    )


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/queues/{key}")
    async def queue(request: Request, key: str, session: Session = person, cursor: str | None = None) -> Response:
        queues = queues_of(session)
        chosen = next((q for q in queues if q.key == key), None)
        if chosen is None:
            return render(request, "not_found.html", session, 404, queues=queues)
        page = await gateway.tickets(session.access_token, cursor=cursor, limit=50, **chosen.filters)
        rows = [row_of(ticket) for ticket in page.get("tickets", [])]
        return render(
            request,
            "queue.html",
            session,
            queues=queues,
            queue=chosen,
            rows=rows,
            next_cursor=page.get("next_cursor"),
            blocks=("rows",),
        )

    return pages
