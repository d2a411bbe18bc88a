"""Who is asking: the tenant and actor of a request, and its correlation.

Stand-in until authentication lands (issue 10): the tenant and actor come from
headers. Every command and query takes them from here, so swapping in real
authentication changes this module only.
"""

from __future__ import annotations

from typing import Annotated
from uuid import uuid4

from fastapi import Depends, Header, Request
from pydantic import BaseModel

from services.chassis import logs, tracing

TENANT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class Identity(BaseModel):
    tenant: str
    actor: str
    correlation_id: str
    traceparent: str | None = None


async def identity(
    request: Request,
    x_tenant_id: Annotated[str, Header(pattern=TENANT_PATTERN, description="The tenant acted for.")],
    x_actor_id: Annotated[str, Header(min_length=1, max_length=200)] = "api",
    x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
    traceparent: Annotated[str | None, Header(max_length=55)] = None,
) -> Identity:
    """Also what this request's log lines and server span are about. Async, so that what it binds
    stays in the request's context. With tracing on, `traceparent` is the server span's: the events
    the request records are stored as its children."""
    ticket_id = request.path_params.get("ticket_id")
    logs.bind(tenant=x_tenant_id, ticket_id=ticket_id, traceparent=traceparent)
    tracing.annotate(tenant=x_tenant_id, ticket_id=ticket_id)
    return Identity(
        tenant=x_tenant_id,
        actor=x_actor_id,
        correlation_id=x_correlation_id or str(uuid4()),
        traceparent=tracing.traceparent() or traceparent,
    )


CurrentIdentity = Annotated[Identity, Depends(identity)]
