"""Who reads the portal of a tenant: anyone (the knowledge base is public) or a signed-in person of
that tenant, in the language they chose on the portal, else their own, else their browser's.

An anonymous visitor has no desk session, yet their forms ("did this help?") carry a form token
too: one kept in the signed cookie, so another site cannot post them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from services.web import forms, i18n
from services.web.gateway_client import KbReader
from services.web.sessions import Session
from services.web.signin import SignIn, SignInRequiredError

LANGUAGE_KEY = "portal_language"
TOKEN_KEY = "portal_form_token"


@dataclass(frozen=True)
class Visitor:
    tenant: str
    language: str
    session: Session | None
    csrf_token: str
    address: str = ""  # the reader's, as the gateway saw it: the public API's rate limit is per reader

    @property
    def token(self) -> str | None:
        """The API token to read with: the person's, or none (the anonymous, public API)."""
        return self.session.access_token if self.session else None

    @property
    def reader(self) -> KbReader:
        """How this visitor reads the knowledge base."""
        return KbReader(self.tenant, self.token, self.address)

    @property
    def base(self) -> str:
        return f"/t/{self.tenant}"

    def check(self, sent: str) -> None:
        """A form of this visitor's: refused without their form token."""
        if not sent or not secrets.compare_digest(sent, self.csrf_token):
            raise forms.ForgedFormError


def visitor(sign_in: SignIn) -> Any:
    """A route dependency: the portal's reader, with the request rendered in their language
    (`?lang=ru` switches it, and it is remembered)."""

    async def dependency(request: Request, tenant: str) -> Visitor:
        session = sign_in.session_of(request)
        address = request.client.host if request.client else ""
        if session is not None and session.tenant != tenant:
            session = None  # another tenant's portal: read as anyone would
        asked = request.query_params.get("lang")
        if asked in i18n.LANGUAGES:
            request.session[LANGUAGE_KEY] = asked
        chosen = request.session.get(LANGUAGE_KEY) or (session.locale if session else None)
        language = i18n.choose(chosen, request.headers.get("accept-language"))
        i18n.use(language)
        if session is not None:
            return Visitor(tenant, language, session, session.csrf_token, address)
        token = request.session.get(TOKEN_KEY)
        if not isinstance(token, str):
            token = request.session[TOKEN_KEY] = secrets.token_urlsafe(32)
        return Visitor(tenant, language, None, token, address)

    return Depends(dependency)


def signed_in(sign_in: SignIn) -> Any:
    """A route dependency: the portal's reader, who must be signed in to this tenant's desk."""
    reader = visitor(sign_in)

    async def dependency(who: Visitor = reader) -> Visitor:
        if who.session is None:
            raise SignInRequiredError
        return who

    return Depends(dependency)
