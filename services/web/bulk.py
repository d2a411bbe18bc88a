"""Bulk actions on a queue's selection: assign, move, reprioritise, tag or merge several tickets at once.

Each ticket is its own change through the API (one event each, with the agent as actor and the reason
given); the page then says which were done and which were refused, and why: one refusal stops none
of the others.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from services.web import forms
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session
from services.web.ticket.lookup import other_ticket

ACTIONS = ("assign", "status", "priority", "tag", "merge")


@dataclass(frozen=True)
class Outcome:
    ticket_id: str
    done: bool
    message: str


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.post("/bulk")
    async def bulk(
        request: Request,
        ticket_ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI's form default
        action: Annotated[str, Form()] = "",
        value: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        back: Annotated[str, Form()] = "/queues/mine",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        back = back if back.startswith("/") and not back.startswith("//") else "/queues/mine"
        if not ticket_ids or action not in ACTIONS or not value.strip():
            outcomes = [Outcome("", False, _("Choose tickets, an action and its value."))]
            return render(request, "bulk.html", session, 422, queues=queues_of(session), outcomes=outcomes, back=back)
        why = reason.strip() or _("changed in bulk in the workspace")
        token = session.access_token
        into = ""
        if action == "merge":  # into the ticket `value` names, by its number (or id)
            target = await other_ticket(gateway, token, value)
            if target is None:
                outcomes = [Outcome("", False, _("No ticket of that number that you can see."))]
                return render(
                    request, "bulk.html", session, 422, queues=queues_of(session), outcomes=outcomes, back=back
                )
            into = str(target["id"])

        async def one(ticket_id: str) -> Outcome:
            try:
                if action == "assign":
                    group, _slash, agent = value.strip().partition("/")
                    await gateway.assign(
                        token, ticket_id, {"group_id": group, "agent_id": agent or None, "reason": why}
                    )
                elif action == "status":
                    body = {"reason": why} | ({"resolution": why} if value == "resolve" else {})
                    await gateway.act(token, ticket_id, value, body, forms.form_key())
                elif action == "priority":
                    await gateway.change(token, ticket_id, {"priority": value.upper(), "reason": why})
                elif action == "tag":
                    await gateway.change(token, ticket_id, {"tags_add": forms.words(value), "reason": why})
                else:
                    if into == ticket_id:
                        return Outcome(ticket_id, True, _("kept: the others were merged into it"))
                    await gateway.act(token, ticket_id, "merge", {"into": into, "reason": why}, forms.form_key())
            except GatewayError as error:
                return Outcome(ticket_id, False, str(error))
            return Outcome(ticket_id, True, _("done"))

        outcomes = list(await asyncio.gather(*(one(ticket_id) for ticket_id in dict.fromkeys(ticket_ids))))
        status = 200 if all(o.done for o in outcomes) else 207
        return render(request, "bulk.html", session, status, queues=queues_of(session), outcomes=outcomes, back=back)

    return pages
