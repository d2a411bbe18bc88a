"""Signing in at make run's identity provider over HTTP, as a browser and a confidential client (the web
workspace) do it together: the authorization code flow with PKCE, one step a method."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.html_forms import form_of


def _random() -> str:
    return secrets.token_urlsafe(16)


@dataclass
class SignIn:
    """One person's way through the provider (`idp`: its process, or its app in a TestClient)."""

    idp: httpx.Client
    client_id: str
    secret: str
    callback: str
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    state: str = field(default_factory=_random)
    nonce: str = field(default_factory=_random)

    def asked(self, **changed: str | None) -> dict[str, str]:
        """The authorization request's parameters, `changed` (None: left out)."""
        params: dict[str, str | None] = {
            "client_id": self.client_id, "redirect_uri": self.callback, "response_type": "code",
            "scope": "openid profile", "state": self.state, "nonce": self.nonce,
            "code_challenge": create_s256_code_challenge(self.verifier), "code_challenge_method": "S256",
        } | changed  # fmt: skip
        return {name: value for name, value in params.items() if value is not None}

    def page(self, **changed: str | None) -> httpx.Response:
        return self.idp.get("/authorize", params=self.asked(**changed), follow_redirects=False)

    def choose(self, button: str, **changed: str | None) -> dict[str, list[str]]:
        """Press `button` on the sign-in page; what the client hears back at its redirect URI."""
        page = self.page(**changed)
        assert page.status_code == 200, page.text
        form = form_of(page.text)
        answer = self.idp.post(form.action, data=form.pressing(button), follow_redirects=False)
        assert answer.status_code == 303, answer.text
        location = urlsplit(answer.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == self.callback
        return parse_qs(location.query)

    def code_of(self, button: str, **changed: str | None) -> str:
        back = self.choose(button, **changed)
        assert back["state"] == [self.state]
        return back["code"][0]

    def token_form(self, code: str, verifier: str | None = None) -> dict[str, str]:
        return {"grant_type": "authorization_code", "code": code, "redirect_uri": self.callback,
                "code_verifier": verifier or self.verifier}  # fmt: skip

    def exchange(self, code: str, verifier: str | None = None, **changed: str) -> httpx.Response:
        """/token, the client proving itself by HTTP Basic (client_secret_basic)."""
        form = self.token_form(code, verifier) | changed
        return self.idp.post("/token", data=form, auth=(self.client_id, self.secret))

    def tokens_of(self, button: str) -> dict[str, str]:
        """The whole way: the tokens the client gets when its person presses `button`."""
        answer = self.exchange(self.code_of(button))
        assert answer.status_code == 200, answer.text
        tokens: dict[str, str] = answer.json()
        return tokens
