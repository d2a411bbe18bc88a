"""Who is asking: the authenticated principal of a request, the tenant it acts for, and its
correlation.

Every request to a `/v1` endpoint carries a bearer token (a person's JWT, or the gateway's
internal token) or, at the gateway, an API key (`X-API-Key`, or `Authorization: Bearer
sdk_...`); anything else is a 401. The two are alternatives: when `Authorization` is sent it
alone decides (a client that also fills in `X-API-Key` is judged by its token), else
`X-API-Key` does. The tenant and the actor of every recorded event are
the principal's, never a value from the request. The gateway also counts each caller's
requests against the rate limit (services/chassis/http/rate_limit.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol
from uuid import uuid4

from fastapi import Depends, FastAPI, Header, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from services.chassis.http.auth import (
    INTERNAL_ISSUER,
    Forbidden,
    Principal,
    Role,
    TokenVerifier,
    Unauthenticated,
)
from services.chassis.http.openapi import answers
from services.chassis.http.rate_limit import Allowance, Limiter
from services.chassis.runtime import logs, tracing
from services.chassis.runtime.settings import Settings


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

    def to_peer(self, mint: Callable[[Principal], str]) -> dict[str, str]:
        """The headers of a call made to another service for this caller: the gateway's short internal
        token for the same principal (the caller's own credentials never travel on) and the correlation id."""
        return {"authorization": f"Bearer {mint(self.principal)}", "x-correlation-id": self.correlation_id}


Resolve = Callable[[Principal], Awaitable[Principal]]


class Authenticator:
    def __init__(
        self, verifier: TokenVerifier, api_keys: ApiKeyCheck | None = None, limiter: Limiter | None = None
    ) -> None:
        self.verifier = verifier
        self.api_keys = api_keys
        self.limiter = limiter
        # What the service knows of a principal beyond its credentials (intake: the person a customer is);
        # set by the service that knows it, once it has what it needs.
        self.resolve: Resolve | None = None

    async def principal(self, authorization: str | None, api_key: str | None) -> Principal:
        return (await self.admit(authorization, api_key))[0]

    async def admit(self, authorization: str | None, api_key: str | None) -> tuple[Principal, Allowance | None]:
        """The principal, and where it stands against the rate limit (None: not counted here).
        Who `Authorization` proves when it is sent (a token, or `Bearer sdk_...` an API key), else
        who `X-API-Key` proves; credentials that prove nothing are a 401, never passed over."""
        if authorization is not None:
            scheme, _, token = authorization.strip().partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise Unauthenticated("Authorization must be `Bearer <token>`", rule="authorization")
            principal = await self._key(token) if token.startswith("sdk_") else self.verifier.verify(token)
        elif api_key:
            principal = await self._key(api_key)
        else:
            raise Unauthenticated("this endpoint needs a bearer token or an API key", rule="authorization")
        if self.resolve is not None:
            principal = await self.resolve(principal)
        if self.limiter is None or principal.claims.get("iss") == INTERNAL_ISSUER:
            return principal, None
        caller = principal.api_key or f"{principal.tenant}/{principal.subject}"
        return principal, await self.limiter.spend(caller)

    async def _key(self, key: str) -> Principal:
        if self.api_keys is None:
            raise Unauthenticated("API keys are accepted at the gateway only", rule="api_key")
        return await asyncio.to_thread(self.api_keys.authenticate, key)


def verifier_of(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        settings.auth_issuer, settings.auth_audience, settings.auth_jwks, settings.internal_token_secret
    )


def authenticate(
    app: FastAPI, settings: Settings, api_keys: ApiKeyCheck | None = None, limiter: Limiter | None = None
) -> Authenticator:
    """Make `app` authenticate its requests; the gateway also takes API keys and limits rates (and
    then tells each caller where it stands, on every answer: the chassis' `AnswerHeaders` adds them, and
    a 500's handler itself, see `problems.answer_headers`)."""
    app.state.authenticator = Authenticator(verifier_of(settings), api_keys, limiter)
    return app.state.authenticator  # type: ignore[no-any-return]


BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="JWT",
    auto_error=False,
    description="A person's token from the desk's identity provider (or `sdk_...`, an API key). "
    "When sent, it alone decides who is asking.",
)
API_KEY = APIKeyHeader(
    name="X-API-Key",
    scheme_name="apiKey",
    auto_error=False,
    description="An API key issued by the tenant's admin (at the gateway); used when no Authorization is sent.",
)


@answers(401)
async def identity(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],  # the scheme, for the document
    x_api_key: Annotated[str | None, Security(API_KEY)],
    x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
    traceparent: Annotated[str | None, Header(max_length=55)] = None,
) -> Identity:
    """Also what this request's log lines and server span are about. Async, so that what it binds
    stays in the request's context. With tracing on, `traceparent` is the server span's: the events
    the request records are stored as its children."""
    authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
    if authenticator is None:
        raise Unauthenticated("this service authenticates nobody (no authenticator configured)", rule="configuration")
    # The raw header, not `bearer`: a scheme other than Bearer is refused with its reason, not ignored.
    principal, allowance = await authenticator.admit(request.headers.get("authorization"), x_api_key)
    if allowance is not None:
        request.state.answer_headers = allowance.headers()
    ticket_id = request.path_params.get("ticket_id")
    logs.bind(tenant=principal.tenant, ticket_id=ticket_id, traceparent=traceparent)
    tracing.annotate(tenant=principal.tenant, ticket_id=ticket_id)
    return Identity(principal, x_correlation_id or str(uuid4()), tracing.traceparent() or traceparent)


CurrentIdentity = Annotated[Identity, Depends(identity)]


def peer_headers(request: Request, who: Identity) -> dict[str, str]:
    """The headers of a call this request makes to another service for `who` (Identity.to_peer), with
    the internal token of the app's authenticator."""
    return who.to_peer(request.app.state.authenticator.verifier.mint_internal)


def requires(*roles: Role) -> Any:
    """A route dependency: the caller must hold one of `roles` (403 otherwise)."""

    @answers(403)
    async def check(who: CurrentIdentity) -> None:
        if not who.principal.has(*roles):
            raise Forbidden(f"this needs the role {' or '.join(sorted(roles))}", rule="role")

    return Depends(check)
