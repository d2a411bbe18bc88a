"""A stand-in identity provider for tests and `make run`: one RSA key, its JWKS, and tokens.

The services verify tokens exactly as they would a real provider's (issuer, audience,
expiry, key id); only the signing happens here instead of at the provider.
"""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

ISSUER = "https://id.servicedesk.test/"
AUDIENCE = "servicedesk"
KEY_ID = "test-key-1"
INTERNAL_SECRET = "test-internal-secret-of-32-bytes-at-least!"


@cache
def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> str:
    """The public key set, as the provider would serve it."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_private_key().public_key()))
    return json.dumps({"keys": [public | {"kid": KEY_ID, "use": "sig", "alg": "RS256"}]})


def auth_env(folder: Path) -> dict[str, str]:
    """The services' settings that trust this provider."""
    path = folder / "jwks.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jwks())
    return {
        "SERVICEDESK_AUTH_ISSUER": ISSUER, "SERVICEDESK_AUTH_AUDIENCE": AUDIENCE, "SERVICEDESK_AUTH_JWKS": str(path),
        "SERVICEDESK_INTERNAL_TOKEN_SECRET": INTERNAL_SECRET,
    }  # fmt: skip


def token(
    tenant: str, subject: str = "agent-7", roles: tuple[str, ...] = ("admin",), groups: tuple[str, ...] = (),
    organisation: str | None = None, audience: str = AUDIENCE, issuer: str = ISSUER, expires_in: float = 3600,
    **claims: Any,
) -> str:  # fmt: skip
    now = int(time.time())
    body = {
        "iss": issuer, "aud": audience, "sub": subject, "iat": now, "exp": now + int(expires_in), "tenant": tenant,
        "roles": list(roles), "groups": list(groups), "organisation": organisation,
    } | claims  # fmt: skip
    return jwt.encode(body, _private_key(), algorithm="RS256", headers={"kid": KEY_ID})


def service_token() -> str:
    """A token of one of the platform's services (e.g. to read the internal feed to rebuild)."""
    from services.chassis.http.auth import TokenVerifier

    return TokenVerifier(ISSUER, AUDIENCE, jwks(), INTERNAL_SECRET).mint_service("tests")


def authenticated(app: FastAPI) -> FastAPI:
    """`app` (built in-process by a unit test) trusting this provider, as a service would."""
    from services.chassis.http.auth import TokenVerifier
    from services.chassis.http.identity import Authenticator

    app.state.authenticator = Authenticator(TokenVerifier(ISSUER, AUDIENCE, jwks(), INTERNAL_SECRET))
    return app
