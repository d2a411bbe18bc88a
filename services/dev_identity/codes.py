"""One-time authorization codes: what a sign-in granted, redeemable once, for a minute, by the
client it was granted to, at the redirect URI it was sent to, with the PKCE verifier of its challenge."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from services.dev_identity.errors import OAuthError
from services.dev_identity.people import Person

CODE_SECONDS = 60


@dataclass(frozen=True)
class Grant:
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str  # S256
    nonce: str | None
    person: Person
    issued_at: float


@dataclass
class CodeBook:
    """The codes granted and not yet redeemed, in this process's memory (a restart forgets them)."""

    clock: Callable[[], float] = time.monotonic
    _grants: dict[str, Grant] = field(default_factory=dict)

    def grant(self, client_id: str, redirect_uri: str, scope: str, code_challenge: str, nonce: str | None,
              someone: Person) -> str:  # fmt: skip
        self._forget_expired()
        code = secrets.token_urlsafe(32)
        self._grants[code] = Grant(client_id, redirect_uri, scope, code_challenge, nonce, someone, self.clock())
        return code

    def redeem(self, code: str, client_id: str, redirect_uri: str | None, code_verifier: str | None) -> Grant:
        """The grant of `code`, used up; OAuthError `invalid_grant` when it does not prove one."""
        grant = self._grants.pop(code, None)  # gone on any attempt: a code is tried once
        if grant is None or self.clock() - grant.issued_at > CODE_SECONDS:
            raise OAuthError("invalid_grant", "the code is unknown, used or expired")
        if grant.client_id != client_id:
            raise OAuthError("invalid_grant", "the code was granted to another client")
        if grant.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri is not the one the code was sent to")
        if not code_verifier:
            raise OAuthError("invalid_request", "code_verifier is missing (PKCE)")
        if not secrets.compare_digest(create_s256_code_challenge(code_verifier), grant.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code challenge")
        return grant

    def _forget_expired(self) -> None:
        now = self.clock()
        for code in [code for code, grant in self._grants.items() if now - grant.issued_at > CODE_SECONDS]:
            del self._grants[code]
