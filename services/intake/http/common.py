"""What every intake route shares: the cause of a request, and answering with a ticket."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import uuid4

from fastapi import Header
from fastapi.responses import JSONResponse

from services.chassis.http.etag import etag
from services.chassis.http.identity import Identity
from services.chassis.storage.idempotency import KeyedRequest
from services.intake.privacy.personal_data import PersonalData
from services.intake.tickets.cause import Cause
from services.intake.tickets.domain import Ticket
from services.intake.tickets.representations import ticket_view

IfMatch = Annotated[
    str | None, Header(description='The ETag read (e.g. "7"): the change is refused with 412 if the ticket moved on.')
]


def cause_of(who: Identity, keyed: KeyedRequest | None = None) -> Cause:
    """What a request's events record of it; with `keyed` (its Idempotency-Key) it is carried out once."""
    return Cause(who.tenant, who.actor, who.correlation_id, f"http:{uuid4()}", who.traceparent, keyed)


def ticket_response(
    ticket: Ticket, personal: PersonalData, status_code: int = 200, extra: dict[str, Any] | None = None,
    location: bool = False, public_only: bool = False,
) -> JSONResponse:  # fmt: skip
    """The ticket as JSON, with its version as ETag (and its address as Location); for a customer
    (`public_only`) without the internal notes."""
    body = ticket_view(ticket, personal).model_dump(mode="json") | (extra or {})
    if public_only:
        body["comments"] = [comment for comment in body["comments"] if comment["public"]]
    headers = {"ETag": etag(ticket.version)} | ({"Location": f"/v1/tickets/{ticket.id}"} if location else {})
    return JSONResponse(body, status_code=status_code, headers=headers)
