"""Who is asking, proven: the bearer credentials every request must carry.

People come with OAuth2 bearer JWTs from the desk's identity provider, verified against
its keys (a JWKS document: URL, file or inline JSON), issuer, audience and expiry.
Systems come with API keys, which intake keeps hashed (services/intake/gateway/api_keys.py).
The gateway turns either into a short-lived internal token (HS256 with the platform's
own secret) for the service behind it, so every service verifies the same two kinds of
token and none needs intake's key store.

Claims read from a person's token: `sub` (the actor of everything they do), `tenant`,
`roles` (customer, agent, supervisor, admin), `groups` (an agent's or supervisor's
groups) and `organisation` (a customer's).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt

from services.chassis.http.problems import DomainProblem

INTERNAL_ISSUER = "servicedesk-gateway"
INTERNAL_AUDIENCE = "servicedesk-internal"
INTERNAL_TTL_SECONDS = 120
TENANT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_ASYMMETRIC = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]
LEEWAY_SECONDS = 30  # a person's token is accepted this long past its `exp` (clocks differ)
# A token verified once is taken again, by its exact text, until it expires, but never for longer than
# this: a key the provider withdraws is dropped as soon as a remote key set is fetched again (its lifespan).
VERIFIED_SECONDS = 300
MOST_VERIFIED = 10_000  # tokens kept verified; a flood of one-off tokens starts the memory afresh


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


STAFF = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """An authenticated identity, acting for one tenant."""

    tenant: str
    subject: str
    roles: frozenset[Role]
    groups: frozenset[str] = frozenset()
    organisation: str | None = None
    api_key: str | None = None  # the key's id, when a system authenticated with one
    service: bool = False  # one of the platform's own services (e.g. analytics reading the internal feed)
    # A customer as the desk's directory knows them, once the gateway resolved them (intake: people/customers.py):
    # the person they are, and the id of their organisation there (`organisation` is the token's own word).
    person: str | None = None
    organisation_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF)


class Unauthenticated(DomainProblem):
    """No credentials, or credentials that do not prove anything: 401, with the reason."""

    status = 401
    title = "Unauthenticated"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="servicedesk"'}


class Forbidden(DomainProblem):
    """Authenticated, but this role may not do this (for things the caller may see exist)."""

    status = 403
    title = "Forbidden"


class TokenVerifier:
    def __init__(self, issuer: str, audience: str, jwks: str | None, internal_secret: str | None) -> None:
        self.issuer = issuer
        self.audience = audience
        self.internal_secret = internal_secret
        self._remote: jwt.PyJWKClient | None = None
        self._local: jwt.PyJWKSet | None = None
        # token -> (its principal, until when it is taken without verifying it again)
        self._verified: dict[str, tuple[Principal, float]] = {}
        if jwks and re.match(r"^https?://", jwks):
            self._remote = jwt.PyJWKClient(jwks, cache_keys=True, lifespan=VERIFIED_SECONDS, timeout=5)
        elif jwks:
            text = jwks if jwks.lstrip().startswith("{") else Path(jwks).read_text()
            self._local = jwt.PyJWKSet.from_dict(json.loads(text))

    def verify(self, token: str) -> Principal:
        """The principal `token` proves; Unauthenticated with the reason otherwise. A client sends the
        same token with every request until it expires: the signature and claims of those exact bytes
        are checked once (the decoding and the signature cost more than the rest of a small request)."""
        now = time.time()
        known = self._verified.get(token)
        if known is not None and now < known[1]:
            return known[0]
        principal, leeway = self._verify(token)
        if len(self._verified) >= MOST_VERIFIED:
            self._verified.clear()
        expires = float(principal.claims["exp"]) + leeway
        self._verified[token] = (principal, min(expires, now + VERIFIED_SECONDS))
        return principal

    def _verify(self, token: str) -> tuple[Principal, int]:
        """The principal `token` proves, and the seconds past its `exp` it is accepted."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") == "HS256":
                return self._internal(token), 0
            claims = jwt.decode(
                token,
                self._key(header),
                algorithms=_ASYMMETRIC,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", rule="exp") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the token is for another audience", rule="aud") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the token is from an issuer this desk does not trust", rule="iss") from None
        except (jwt.PyJWTError, ValueError, KeyError) as error:
            raise Unauthenticated(f"the token is not valid: {error}", rule="token") from None
        return principal_of(claims), LEEWAY_SECONDS

    def mint_internal(self, principal: Principal) -> str:
        """A short-lived token for the service behind the gateway, carrying `principal`."""
        if not self.internal_secret:
            raise Unauthenticated("this desk has no internal token secret configured", rule="configuration")
        now = int(time.time())
        claims = {
            "iss": INTERNAL_ISSUER, "aud": INTERNAL_AUDIENCE, "iat": now, "exp": now + INTERNAL_TTL_SECONDS,
            "sub": principal.subject, "tenant": principal.tenant, "roles": sorted(principal.roles),
            "groups": sorted(principal.groups), "organisation": principal.organisation, "api_key": principal.api_key,
        }  # fmt: skip
        return jwt.encode(claims, self.internal_secret, algorithm="HS256")

    def mint_service(self, service: str) -> str:
        """A short-lived token for one of the platform's services calling another (never a person's)."""
        principal = Principal("platform", f"service:{service}", frozenset({Role.ADMIN}))
        claims = jwt.decode(self.mint_internal(principal), options={"verify_signature": False})
        return jwt.encode(claims | {"service": True}, self.internal_secret or "", algorithm="HS256")

    def _internal(self, token: str) -> Principal:
        if not self.internal_secret:
            raise Unauthenticated("internal tokens are not accepted here", rule="token")
        claims = jwt.decode(
            token,
            self.internal_secret,
            algorithms=["HS256"],
            audience=INTERNAL_AUDIENCE,
            issuer=INTERNAL_ISSUER,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return principal_of(claims, internal=True)

    def _key(self, header: dict[str, Any]) -> Any:
        if self._remote is not None:
            return self._remote.get_signing_key(header["kid"]).key
        if self._local is None:
            raise Unauthenticated("this desk has no identity provider keys configured", rule="configuration")
        kid = header.get("kid")
        keys = [k for k in self._local.keys if kid is None or k.key_id == kid]
        if not keys:
            raise Unauthenticated(f"no key {kid!r} in the identity provider's key set", rule="kid")
        return keys[0].key


def principal_of(claims: dict[str, Any], internal: bool = False) -> Principal:
    tenant = claims.get("tenant")
    if not isinstance(tenant, str) or not re.match(TENANT_PATTERN, tenant):
        raise Unauthenticated("the token names no valid tenant", rule="tenant")
    try:
        roles = frozenset(Role(r) for r in claims.get("roles") or [])
    except ValueError as error:
        raise Unauthenticated(f"the token names an unknown role: {error}", rule="roles") from None
    if not roles:
        raise Unauthenticated("the token grants no role", rule="roles")
    return Principal(
        tenant=tenant,
        subject=str(claims["sub"]),
        roles=roles,
        groups=frozenset(claims.get("groups") or []),
        organisation=claims.get("organisation"),
        api_key=claims.get("api_key") if internal else None,
        service=internal and claims.get("service") is True,
        claims=claims,
    )
