"""Who is asking: the tenant and actor of a request, and its correlation.

Stand-in until authentication lands (issue 10): the tenant and actor come from
headers. Every command and query takes them from here, so swapping in real
authentication changes this module only.
"""

from __future__ import annotations

from typing import Annotated
from uuid import uuid4

from fastapi import Depends, Header
from pydantic import BaseModel

TENANT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class Identity(BaseModel):
    tenant: str
    actor: str
    correlation_id: str
    traceparent: str | None = None


def identity(
    x_tenant_id: Annotated[str, Header(pattern=TENANT_PATTERN, description="The tenant acted for.")],
    x_actor_id: Annotated[str, Header(min_length=1, max_length=200)] = "api",
    x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
    traceparent: Annotated[str | None, Header(max_length=55)] = None,
) -> Identity:
    return Identity(
        tenant=x_tenant_id,
        actor=x_actor_id,
        correlation_id=x_correlation_id or str(uuid4()),
        traceparent=traceparent,
    )


CurrentIdentity = Annotated[Identity, Depends(identity)]
