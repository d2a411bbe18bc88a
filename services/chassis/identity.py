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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol
from uuid import uuid4

from fastapi import Depends, FastAPI, Header, Request, Response

from services.chassis import logs, tracing
from services.chassis.auth import (
    INTERNAL_ISSUER,
    Forbidden,
    Principal,
    Role,
    TokenVerifier,
    Unauthenticated,
)
from services.chassis.rate_limit import Allowance, Limiter
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
        self, verifier: TokenVerifier, api_keys: ApiKeyCheck | None = None, limiter: Limiter | None = None
    ) -> None:
        self.verifier = verifier
        self.api_keys = api_keys
        self.limiter = limiter

    async def principal(self, authorization: str | None, api_key: str | None) -> Principal:
        return (await self.admit(authorization, api_key))[0]

    async def admit(self, authorization: str | None, api_key: str | None) -> tuple[Principal, Allowance | None]:
        """The principal, and where it stands against the rate limit (None: not counted here)."""
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
        if self.limiter is None or principal.claims.get("iss") == INTERNAL_ISSUER:
            return principal, None
        caller = principal.api_key or f"{principal.tenant}/{principal.subject}"
        return principal, await asyncio.to_thread(self.limiter.take, caller)


def verifier_of(settings: Settings) -> TokenVerifier:
    return TokenVerifier(settings.auth_issuer, settings.auth_audience, settings.auth_jwks,
                         settings.internal_token_secret)  # fmt: skip


def authenticate(
    app: FastAPI, settings: Settings, api_keys: ApiKeyCheck | None = None, limiter: Limiter | None = None
) -> Authenticator:
    """Make `app` authenticate its requests; the gateway also takes API keys and limits rates (and
    then tells each caller where it stands, on every answer)."""
    app.state.authenticator = Authenticator(verifier_of(settings), api_keys, limiter)
    if limiter is not None:

        @app.middleware("http")
        async def rate_limit_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            response = await call_next(request)
            allowance: Allowance | None = getattr(request.state, "rate_limit", None)
            if allowance is not None:
                response.headers.update(allowance.headers())
            return response

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
    principal, request.state.rate_limit = await authenticator.admit(authorization, x_api_key)
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
