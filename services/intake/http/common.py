"""What every intake route shares: the cause of a request, and answering with a ticket."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import uuid4

from fastapi import Header
from fastapi.responses import JSONResponse

from services.chassis.http.etag import etag
from services.chassis.http.identity import Identity
from services.chassis.http.model_json import ModelJSONResponse
from services.chassis.http.request_keys import RequestKey, scoped
from services.intake.tickets.cause import Cause
from services.intake.tickets.representations import TicketView

IfMatch = Annotated[
    str | None, Header(description='The ETag read (e.g. "7"): the change is refused with 412 if the ticket moved on.')
]


def cause_of(who: Identity, keyed: RequestKey | None = None) -> Cause:
    """What a request's events record of it; with `keyed` (its Idempotency-Key) it is carried out once."""
    return Cause(who.tenant, who.actor, who.correlation_id, f"http:{uuid4()}", who.traceparent, scoped(who, keyed))


def ticket_response(
    ticket: TicketView, status_code: int = 200, extra: dict[str, Any] | None = None, location: bool = False
) -> JSONResponse:
    """The ticket as JSON, with its version as ETag (and its address as Location); `extra` replaces the
    ticket's members it names (`sla`) and adds the others (`position`)."""
    extra = extra or {}
    if replaced := {name: value for name, value in extra.items() if name in TicketView.model_fields}:
        ticket = ticket.model_copy(update=replaced)
    more = {name: value for name, value in extra.items() if name not in replaced}
    headers = {"ETag": etag(ticket.version)} | ({"Location": f"/v1/tickets/{ticket.id}"} if location else {})
    return ModelJSONResponse(ticket, status_code=status_code, headers=headers, more=more)
