"""The clients the development provider knows, and how one proves it is one of them at /token.

A client is registered with its redirect URIs and, for a confidential client (a server such as the
web workspace), a secret it sends by HTTP Basic (`client_secret_basic`, Authlib's default) or in
the form (`client_secret_post`). A client registered without a secret is a public one (`none`):
it sends its `client_id` only. Every client proves the sign-in it redeems by PKCE (S256) too.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from services.chassis.runtime.settings import DevIdentityClient
from services.dev_identity.errors import OAuthError


@dataclass(frozen=True)
class Client:
    client_id: str
    redirect_uris: tuple[str, ...]
    secret: str | None = None  # None: a public client

    def allows(self, redirect_uri: str) -> bool:
        """Exact match, as OAuth 2.1 asks: no prefixes, no patterns."""
        return redirect_uri in self.redirect_uris


def registered(clients: Mapping[str, DevIdentityClient]) -> dict[str, Client]:
    """The clients of settings (`SERVICEDESK_DEV_IDENTITY_CLIENTS`) by id."""
    return {client_id: Client(client_id, tuple(client.redirect_uris), client.secret)
            for client_id, client in clients.items()}  # fmt: skip


def authenticate(clients: Mapping[str, Client], authorization: str | None, form: Mapping[str, str]) -> Client:
    """The client a /token request comes from, proven; OAuthError `invalid_client` otherwise."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if authorization and authorization.lower().startswith("basic "):
        client_id, secret = _basic(authorization)
    client = clients.get(client_id or "")
    if client is None:
        raise OAuthError("invalid_client", "unknown client", status=401)
    if client.secret is not None and not secrets.compare_digest((secret or "").encode(), client.secret.encode()):
        raise OAuthError("invalid_client", "the client's secret is wrong or missing", status=401)
    return client


def _basic(authorization: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(authorization.split(" ", 1)[1].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "the Basic credentials are not base64", status=401) from None
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret)  # RFC 6749 2.3.1: form-encoded before base64
