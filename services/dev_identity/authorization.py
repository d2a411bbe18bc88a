"""An authorization request (`/authorize`), checked: which client asks, where the answer goes back
to, and the PKCE challenge, state and nonce it carries through the sign-in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from services.dev_identity.clients import Client

_CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 4.2: base64url of a SHA-256 digest is 43


class SignInRefused(Exception):
    """No trustworthy place to send an error back to (unknown client, unregistered redirect_uri):
    the person sees a 400 page instead (RFC 6749 4.1.2.1)."""


class RedirectedError(Exception):
    """An error the client hears about at its redirect_uri, with its state."""

    def __init__(self, redirect_uri: str, state: str | None, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.location = answer_url(redirect_uri, error=error, error_description=description, state=state)


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    state: str | None
    nonce: str | None

    def carried(self) -> dict[str, str]:
        """What the sign-in form carries to its POST, as hidden fields (checked again there)."""
        fields = {name: value for name, value in asdict(self).items() if value is not None}
        return fields | {"response_type": "code", "code_challenge_method": "S256"}

    def answered(self, **params: str) -> str:
        """Where the person goes back to the client, with `params` (a code, or an error) and the state."""
        return answer_url(self.redirect_uri, state=self.state, **params)


def checked(clients: Mapping[str, Client], params: Mapping[str, str]) -> AuthorizationRequest:
    """`params` as an authorization request of a registered client; SignInRefused or RedirectedError."""
    client = clients.get(params.get("client_id", ""))
    if client is None:
        raise SignInRefused("This application is not registered at the development identity provider.")
    redirect_uri = params.get("redirect_uri", "")
    if not client.allows(redirect_uri):
        raise SignInRefused(f"redirect_uri is not one registered for {client.client_id}: {redirect_uri!r}.")
    state, nonce = params.get("state"), params.get("nonce")

    def refuse(error: str, description: str) -> RedirectedError:
        return RedirectedError(redirect_uri, state, error, description)

    if params.get("response_type") != "code":
        raise refuse("unsupported_response_type", "only response_type=code (the authorization code flow)")
    scope = params.get("scope", "")
    if "openid" not in scope.split():
        raise refuse("invalid_scope", "scope must include openid")
    if not params.get("code_challenge"):
        raise refuse("invalid_request", "code_challenge is required (PKCE, S256)")
    if params.get("code_challenge_method") != "S256":
        raise refuse("invalid_request", "code_challenge_method must be S256")
    if not _CHALLENGE.match(params["code_challenge"]):
        raise refuse("invalid_request", "code_challenge is not an S256 challenge")
    return AuthorizationRequest(client.client_id, redirect_uri, scope, params["code_challenge"], state, nonce)


def answer_url(redirect_uri: str, **params: str | None) -> str:
    """`redirect_uri` with `params` (those not None) added to its query."""
    query = urlencode({name: value for name, value in params.items() if value is not None})
    return f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}"
