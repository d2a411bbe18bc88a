"""A browser app signs people in through make run's identity provider, a real process, with Authlib's
own OpenID Connect client (the Starlette one the web workspace uses: discovery, PKCE S256, nonce,
ID-token checks), and the desk's services accept the access token it gets, by the provider's keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from authlib.integrations.starlette_client import OAuth
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.chassis.http.auth import TokenVerifier
from services.chassis.runtime.settings import DevIdentityClient
from services.dev_identity import AUDIENCE
from tests.client import headers
from tests.harness import Desk, IdentityProvider
from tests.html_forms import form_of
from tests.sign_in import SignIn

CLIENT_ID = "servicedesk-web"
SECRET = "a-development-secret-of-the-web-client"
CALLBACK = "http://testserver/auth/callback"
CLIENTS = {CLIENT_ID: DevIdentityClient(redirect_uris=[CALLBACK], secret=SECRET)}


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[IdentityProvider]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEDESK_")}
    env |= {"SERVICEDESK_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    provider = IdentityProvider.of(env, tmp_path, CLIENTS).start()
    yield provider
    provider.stop()


def workspace(provider: IdentityProvider) -> Starlette:
    """The smallest web app that signs people in as the workspace does."""
    oauth = OAuth()
    oauth.register(
        "desk", client_id=CLIENT_ID, client_secret=SECRET,
        server_metadata_url=f"{provider.url}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
    )  # fmt: skip

    async def login(request: Request) -> Response:
        answer: Response = await oauth.desk.authorize_redirect(request, CALLBACK)
        return answer

    async def callback(request: Request) -> Response:
        token: dict[str, Any] = await oauth.desk.authorize_access_token(request)
        return JSONResponse({"userinfo": dict(token["userinfo"]), "access_token": token["access_token"]})

    routes = [Route("/login", login), Route("/auth/callback", callback)]
    return Starlette(routes=routes, middleware=[Middleware(SessionMiddleware, secret_key="session-secret-of-tests")])


def test_vera_signs_in_through_the_provider_with_authlib_and_the_desk_accepts_her_token(
    provider: IdentityProvider,
) -> None:
    with TestClient(workspace(provider)) as web, httpx.Client(base_url=provider.url) as browser:
        to_provider = web.get("/login", follow_redirects=False)
        assert to_provider.status_code == 302
        sign_in = urlsplit(to_provider.headers["location"])
        assert f"{sign_in.scheme}://{sign_in.netloc}" == provider.url
        assert "code_challenge_method=S256" in sign_in.query

        page = browser.get(f"{sign_in.path}?{sign_in.query}")
        assert page.status_code == 200, page.text
        form = form_of(page.text)
        chosen = browser.post(form.action, data=form.pressing("Sign in as Vera (agent, second-line)"))
        assert chosen.status_code == 303, chosen.text
        back = urlsplit(chosen.headers["location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK

        signed_in = web.get(f"{back.path}?{back.query}")
        assert signed_in.status_code == 200, signed_in.text

    said = signed_in.json()
    assert {name: said["userinfo"][name] for name in ("iss", "aud", "sub", "name", "locale", "tenant")} == {
        "iss": provider.url, "aud": CLIENT_ID, "sub": "agent-vera", "name": "Vera Volkova", "locale": "ru",
        "tenant": "acme",
    }  # fmt: skip
    principal = TokenVerifier(provider.url, AUDIENCE, f"{provider.url}/jwks", None).verify(said["access_token"])
    assert (principal.tenant, principal.subject, principal.groups) == ("acme", "agent-vera", frozenset({"second-line"}))
    assert {str(role) for role in principal.roles} == {"agent"}


def test_a_token_made_for_a_desk_that_trusts_the_provider_is_accepted_like_a_signed_in_one(
    provider: IdentityProvider,
) -> None:
    trusted = provider.trust()
    assert trusted["SERVICEDESK_AUTH_ISSUER"] == provider.url
    verifier = TokenVerifier(provider.url, AUDIENCE, trusted["SERVICEDESK_AUTH_JWKS"], None)
    principal = verifier.verify(provider.token("acme", "admin-1", ["admin"]))
    assert (principal.tenant, principal.subject) == ("acme", "admin-1")


def test_a_desk_that_trusts_the_provider_serves_ann_once_she_signed_in_and_no_one_else_s_tokens(
    sqlite_desk: Desk,
) -> None:
    provider = sqlite_desk.identity_provider(CLIENTS).start()
    gateway = sqlite_desk.service("intake", "api").start()
    with httpx.Client(base_url=provider.url, timeout=10.0) as idp:
        tokens = SignIn(idp, CLIENT_ID, SECRET, CALLBACK).tokens_of("Sign in as Ann (agent, first-line)")
    with httpx.Client(base_url=gateway.url, timeout=10.0) as api:
        hers = api.get("/v1/tickets", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        stand_in = api.get("/v1/tickets", headers=headers("acme"))  # tests/tokens.py's issuer, trusted no more
    assert hers.status_code == 200, hers.text
    assert stand_in.status_code == 401, "the stand-in's key is not among the provider's"
