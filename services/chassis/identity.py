"""Who is asking: the authenticated principal of a request, the tenant it acts for, and its
correlation.

Every request to a `/v1` endpoint carries a bearer token (a person's JWT, or the gateway's
internal token) or, at the gateway, an API key (`X-API-Key`, or `Authorization: Bearer
sdk_...`); anything else is a 401. The tenant and the actor of every recorded event are
the principal's, never a value from the request. The gateway also counts each caller's
requests against the rate limit (services/chassis/rate_limit.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any, Protocol
from uuid import uuid4

from fastapi import Depends, FastAPI, Header, Request

from services.chassis import logs, tracing
from services.chassis.auth import (
    INTERNAL_ISSUER,
    Forbidden,
    Principal,
    Role,
    TokenVerifier,
    Unauthenticated,
)
from services.chassis.rate_limit import RateLimiter
from services.chassis.settings import Settings


class ApiKeyCheck(Protocol):
    def authenticate(self, key: str) -> Principal: ...


@dataclass(frozen=True)
class Identity:
    principal: Principal
    correlation_id: str
    traceparent: str | None = None

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    @property
    def actor(self) -> str:
        return self.principal.subject


class Authenticator:
    def __init__(
        self, verifier: TokenVerifier, api_keys: ApiKeyCheck | None = None, limiter: RateLimiter | None = None
    ) -> None:
        self.verifier = verifier
        self.api_keys = api_keys
        self.limiter = limiter

    async def principal(self, authorization: str | None, api_key: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        if authorization and scheme.lower() != "bearer":
            raise Unauthenticated("only Bearer credentials are accepted", rule="authorization")
        key = api_key or (token if token.startswith("sdk_") else None)
        if key is not None:
            if self.api_keys is None:
                raise Unauthenticated("API keys are accepted at the gateway only", rule="api_key")
            principal = await asyncio.to_thread(self.api_keys.authenticate, key)
        elif token:
            principal = self.verifier.verify(token)
        else:
            raise Unauthenticated("this endpoint needs a bearer token or an API key", rule="authorization")
        if self.limiter is not None and principal.claims.get("iss") != INTERNAL_ISSUER:
            self.limiter.take(principal.api_key or f"{principal.tenant}/{principal.subject}")
        return principal


def verifier_of(settings: Settings) -> TokenVerifier:
    return TokenVerifier(settings.auth_issuer, settings.auth_audience, settings.auth_jwks,
                         settings.internal_token_secret)  # fmt: skip


def authenticate(
    app: FastAPI, settings: Settings, api_keys: ApiKeyCheck | None = None, gateway: bool = False
) -> Authenticator:
    """Make `app` authenticate its requests; the gateway also takes API keys and limits rates."""
    limiter = RateLimiter(settings.rate_limit_per_minute) if gateway else None
    app.state.authenticator = Authenticator(verifier_of(settings), api_keys, limiter)
    return app.state.authenticator  # type: ignore[no-any-return]


async def identity(
    request: Request,
    authorization: Annotated[str | None, Header(description="`Bearer <token>`.")] = None,
    x_api_key: Annotated[str | None, Header(description="An API key (at the gateway).")] = None,
    x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
    traceparent: Annotated[str | None, Header(max_length=55)] = None,
) -> Identity:
    """Also what this request's log lines and server span are about. Async, so that what it binds
    stays in the request's context. With tracing on, `traceparent` is the server span's: the events
    the request records are stored as its children."""
    authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
    if authenticator is None:
        raise Unauthenticated("this service authenticates nobody (no authenticator configured)", rule="configuration")
    principal = await authenticator.principal(authorization, x_api_key)
    ticket_id = request.path_params.get("ticket_id")
    logs.bind(tenant=principal.tenant, ticket_id=ticket_id, traceparent=traceparent)
    tracing.annotate(tenant=principal.tenant, ticket_id=ticket_id)
    return Identity(principal, x_correlation_id or str(uuid4()), tracing.traceparent() or traceparent)


CurrentIdentity = Annotated[Identity, Depends(identity)]


def requires(*roles: Role) -> Any:
    """A route dependency: the caller must hold one of `roles` (403 otherwise)."""

    async def check(who: CurrentIdentity) -> None:
        if not who.principal.has(*roles):
            raise Forbidden(f"this needs the role {' or '.join(sorted(roles))}", rule="role")

    return Depends(check)
