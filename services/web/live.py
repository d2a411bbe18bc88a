"""The ticket page live: the gateway's stream of the ticket relayed to the browser, and the page's heartbeat.

The relay follows `/v1/tickets/{id}/stream` with the person's token (so the API decides what they may
see, a customer never an internal note) and says to the page, as Server-Sent Events for htmx's sse
extension: `changed` (a ticket event) and `sla` (the SLA state moved), on either of which the page asks
once for its facts, thread and history, swapped in out of band (ticket.html's `live` block), and
`viewers` (who else has the ticket open, as HTML to swap in). Each `changed` keeps the API's id (the
ticket's version), so a browser that reconnects (its `Last-Event-ID`) resumes where it was, whichever
web replica it reaches; when the API's stream breaks the relay ends, and the browser reconnects within a
second. The relay holds nothing but the line.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Form, Header
from starlette.responses import Response, StreamingResponse

from services.chassis.http.draining import until_draining
from services.web import forms, i18n
from services.web.gateway_client import Gateway, GatewayError, SignedOutError
from services.web.pages import TEMPLATES
from services.web.sessions import Session

ACTIVITIES = ("viewing", "replying")


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/tickets/{ticket_id}/live")
    async def live(
        ticket_id: str,
        after: int = 0,
        last_event_id: Annotated[str | None, Header()] = None,
        session: Session = person,
    ) -> Response:
        language = i18n.current()
        resumed = last_event_id if last_event_id and last_event_id.isdigit() else None
        try:
            upstream = await gateway.ticket_stream(session.access_token, ticket_id, after, resumed)
        except httpx.HTTPError:
            return Response(status_code=503)  # the browser tries again (htmx, ever more slowly)
        if upstream.status_code != 200:  # not (or no longer) the person's to see, or signed out
            await upstream.aclose()
            return Response(status_code=204)  # a browser's event source stops here; the page stays as it is

        async def lines() -> AsyncIterator[str]:
            i18n.use(language)
            yield "retry: 1000\n\n"
            try:
                async for said in _relayed(upstream.aiter_lines(), session):
                    yield said
            except httpx.HTTPError:
                return  # the API's stream broke: the browser reconnects with its Last-Event-ID
            finally:
                await upstream.aclose()

        return StreamingResponse(
            until_draining(lines()), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @pages.post("/tickets/{ticket_id}/viewing", status_code=204)
    async def viewing(
        ticket_id: str,
        activity: Annotated[str, Form()] = "viewing",
        csrf_token: Annotated[str, Form()] = "",
        x_csrf_token: Annotated[str, Header()] = "",
        session: Session = person,
    ) -> Response:
        """The page's heartbeat (desk.js): the person has the ticket open, or is replying."""
        forms.check_form_token(session, x_csrf_token or csrf_token)
        if session.is_staff:
            await _quietly(gateway.beat(session.access_token, ticket_id, _activity(activity), session.name))
        return Response(status_code=204)

    @pages.post("/tickets/{ticket_id}/viewing/end", status_code=204)
    async def left(
        ticket_id: str,
        csrf_token: Annotated[str, Form()] = "",
        x_csrf_token: Annotated[str, Header()] = "",
        session: Session = person,
    ) -> Response:
        """The page was closed (desk.js sends it as it goes): gone at once for the others."""
        forms.check_form_token(session, x_csrf_token or csrf_token)
        if session.is_staff:
            await _quietly(gateway.leave(session.access_token, ticket_id))
        return Response(status_code=204)

    return pages


def _activity(typed: str) -> str:
    return typed if typed in ACTIVITIES else "viewing"


async def _quietly(beat: Any) -> None:
    """A beat the API refused (the ticket moved out of sight, a token expired) changes nothing on the page."""
    try:
        await beat
    except (GatewayError, SignedOutError, httpx.HTTPError):
        return


async def _relayed(upstream: AsyncIterator[str], session: Session) -> AsyncIterator[str]:
    """The API's events as the page's: `changed` with the API's id, `sla`, `viewers` as HTML; comments as they come."""
    fields: dict[str, str] = {}
    async for line in upstream:
        if line.startswith(":"):
            yield f"{line}\n\n"
        elif line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        elif fields:
            said = _said(fields, session)
            fields = {}
            if said:
                yield said


def _said(fields: dict[str, str], session: Session) -> str | None:
    kind = fields.get("event", "")
    if kind.startswith("ticket."):
        return (
            f"id: {fields['id']}\nevent: changed\ndata: {kind}\n\n" if "id" in fields else "event: changed\ndata: \n\n"
        )
    if kind.startswith("sla."):
        return f"event: sla\ndata: {kind}\n\n"
    if kind == "viewers":
        others = [
            v for v in json.loads(fields.get("data", "{}")).get("viewers") or [] if v["subject"] != session.subject
        ]
        html = TEMPLATES.env.get_template("ticket_viewers.html").render(viewers=others).strip() or "<!-- nobody -->"
        return "event: viewers\n" + "".join(f"data: {line}\n" for line in html.splitlines()) + "\n"
    return None
