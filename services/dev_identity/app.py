"""The development provider as an ASGI app: OpenID Connect discovery, its keys, the sign-in page,
the token exchange and userinfo, plus the health route `make run`'s supervisor waits on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse

from services.dev_identity import exchange, sign_in
from services.dev_identity.clients import Client
from services.dev_identity.codes import CodeBook
from services.dev_identity.errors import install_oauth_errors
from services.dev_identity.keys import jwks
from services.dev_identity.people import PEOPLE
from services.dev_identity.provider import Provider, provider_of

CLAIMS = ["iss", "aud", "sub", "exp", "iat", "auth_time", "nonce", "at_hash", "name", "given_name", "locale", "tenant",
          "roles", "groups", "organisation"]  # fmt: skip


def create_app(issuer: str, data_dir: Path, clients: dict[str, Client], codes: CodeBook | None = None) -> FastAPI:
    app = FastAPI(title="Development identity provider", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.provider = Provider(issuer.rstrip("/"), data_dir, clients, codes or CodeBook())
    install_oauth_errors(app)
    app.include_router(sign_in.router)
    app.include_router(exchange.router)
    app.add_api_route("/.well-known/openid-configuration", discovery, methods=["GET"])
    app.add_api_route("/jwks", keys, methods=["GET"])
    app.add_api_route("/health/live", healthy, methods=["GET"])
    app.add_api_route("/health/ready", healthy, methods=["GET"])
    app.add_api_route("/", home, methods=["GET"], response_class=HTMLResponse)
    return app


async def discovery(request: Request) -> dict[str, Any]:
    provider = provider_of(request)
    return {
        "issuer": provider.issuer,
        "authorization_endpoint": provider.url("/authorize"),
        "token_endpoint": provider.url("/token"),
        "userinfo_endpoint": provider.url("/userinfo"),
        "jwks_uri": provider.url("/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": CLAIMS,
    }


async def keys(request: Request) -> dict[str, Any]:
    return jwks(provider_of(request).data_dir)


async def healthy() -> dict[str, str]:
    return {"status": "ok"}


async def home(request: Request) -> Response:
    """Where `make run` points people: who can sign in, and through which clients."""
    provider = provider_of(request)
    return sign_in.templates.TemplateResponse(request, "home.html", {"provider": provider, "people": PEOPLE})
