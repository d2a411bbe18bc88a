"""Signing in through the organisation's identity provider (OpenID Connect code flow with PKCE),
and signing out.

Authlib keeps the flow's state, nonce and code verifier in the signed cookie between the redirect
and the callback, and checks the ID token (signature, issuer, audience, nonce) on the way back. A
person of a tenant this workspace does not serve (`SERVICEDESK_WEB_TENANTS`) is refused with a page
that says so, and no session is made.

Authlib's client is made at the first sign-in, not at the process's start: its import is an eighth of
the web service's start, and a restarted process serves the people already signed in without it.
"""

from __future__ import annotations

import logging
import warnings
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms, i18n
from services.web.pages import render
from services.web.preferences import Preferences
from services.web.sessions import Session, SessionStore

if TYPE_CHECKING:
    from authlib.integrations.starlette_client import OAuth

log = logging.getLogger(__name__)
COOKIE_KEY = "sid"


class SignIn:
    """The provider's client, and where a session is found for a request."""

    def __init__(
        self,
        sessions: SessionStore,
        issuer: str,
        client_id: str,
        client_secret: str,
        public_url: str,
        tenants: list[str],
    ) -> None:
        self.sessions = sessions
        self.preferences = Preferences(sessions.view.recorder)
        self.public_url = public_url.rstrip("/")
        self.tenants = tenants
        self._client = {
            "client_id": client_id,
            "client_secret": client_secret,
            "server_metadata_url": f"{issuer.rstrip('/')}/.well-known/openid-configuration",
            "client_kwargs": {"scope": "openid profile", "code_challenge_method": "S256"},
        }

    @cached_property
    def oauth(self) -> OAuth:
        with warnings.catch_warnings():  # Authlib's notice that its httpx integration will move to httpx2
            warnings.filterwarnings("ignore", "The httpx module is deprecated")
            from authlib.integrations.starlette_client import OAuth

        oauth = OAuth()
        oauth.register("desk", **self._client)
        return oauth

    def session_of(self, request: Request) -> Session | None:
        session_id = request.session.get(COOKIE_KEY)
        return self.sessions.get(session_id) if isinstance(session_id, str) else None

    def serves(self, tenant: str) -> bool:
        return not self.tenants or tenant in self.tenants


class SignInRequiredError(Exception):
    """The page needs a signed-in person: the browser is sent to sign in (and back)."""


def router(signin: SignIn) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/signin")
    async def start(request: Request, next: str = "/") -> Response:
        request.session["next"] = next if next.startswith("/") and not next.startswith("//") else "/"
        client: Any = signin.oauth.desk
        redirect: Response = await client.authorize_redirect(request, f"{signin.public_url}/auth/callback")
        return redirect

    @pages.get("/auth/callback")
    async def callback(request: Request) -> Response:
        client: Any = signin.oauth.desk
        from authlib.integrations.base_client.errors import OAuthError  # loaded with the client

        try:
            token = await client.authorize_access_token(request)
        except OAuthError as error:
            log.info("sign-in refused by the provider or the checks: %s", error.error)
            return render(request, "refused.html", None, 400, reason=i18n.gettext_("The sign-in did not complete."))
        claims: dict[str, Any] = dict(token.get("userinfo") or {})
        tenant = str(claims.get("tenant") or "")
        if not signin.serves(tenant):
            return render(
                request,
                "refused.html",
                None,
                403,
                reason=i18n.gettext_("Your account belongs to another organisation's desk."),
            )
        expires = datetime.now(UTC) + timedelta(seconds=int(token.get("expires_in") or 3600))
        preferred = signin.preferences.at_sign_in(tenant, str(claims["sub"]), claims)
        session = signin.sessions.begin(
            tenant=tenant,
            subject=str(claims["sub"]),
            name=str(claims.get("name") or claims["sub"]),
            roles=list(claims.get("roles") or []),
            groups=list(claims.get("groups") or []),
            access_token=token["access_token"],
            expires=expires,
            locale=preferred.language or None,
            organisation=claims.get("organisation"),
            time_zone=preferred.time_zone,
        )
        after = request.session.pop("next", "/")
        request.session.clear()
        request.session[COOKIE_KEY] = session.session_id
        return RedirectResponse(after, status_code=303)

    @pages.post("/signout")
    async def signout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
        session = signin.session_of(request)
        if session is not None:
            forms.check_form_token(session, csrf_token)
            signin.sessions.end(session.session_id)
        request.session.clear()
        return render(request, "signed_out.html", None)

    return pages


def signed_in(signin: SignIn) -> Any:
    """A route dependency: the signed-in person's session (else the browser goes to sign in),
    with the request rendered in their language."""

    async def dependency(request: Request) -> Session:
        session = signin.session_of(request)
        if session is None:
            raise SignInRequiredError
        i18n.use(i18n.choose(session.locale, request.headers.get("accept-language")))
        return session

    return Depends(dependency)
