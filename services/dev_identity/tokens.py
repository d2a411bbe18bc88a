"""The tokens the development provider signs: access tokens the desk's services accept (the
claims services/chassis/http/auth.py reads, audience AUDIENCE) and OpenID Connect ID tokens."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
from authlib.oidc.core.util import create_half_hash

from services.dev_identity.keys import AUDIENCE, KEY_ID, private_key, trusted_issuer
from services.dev_identity.people import Person

SIGN_IN_SECONDS = 8 * 3600  # a working day: what a sign-in through the provider is valid for


def _signed(data_dir: Path, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, private_key(data_dir), algorithm="RS256", headers={"kid": KEY_ID})


def token(
    data_dir: Path, tenant: str, subject: str, roles: list[str], hours: float = 12, groups: Sequence[str] = (),
    organisation: str | None = None, issuer: str | None = None,
) -> str:  # fmt: skip
    """A token of the dev provider, with the claims the desk reads (services/chassis/http/auth.py), from
    `issuer` (by default the one the services were told to trust, see keys.environment)."""
    now = int(time.time())
    claims = {"iss": issuer or trusted_issuer(data_dir), "aud": AUDIENCE, "sub": subject, "tenant": tenant,
              "roles": roles, "iat": now, "exp": now + int(hours * 3600), "groups": list(groups),
              "organisation": organisation}  # fmt: skip
    return _signed(data_dir, claims)


def access_token(data_dir: Path, issuer: str, someone: Person, now: int) -> str:
    """The token a signed-in person calls the desk's API with."""
    claims = {"iss": issuer, "aud": AUDIENCE, "iat": now, "exp": now + SIGN_IN_SECONDS} | someone.claims()
    return _signed(data_dir, claims)


def id_token(data_dir: Path, issuer: str, client_id: str, someone: Person, nonce: str | None, access: str,
             now: int) -> str:  # fmt: skip
    """Who signed in, for the client (`aud`) that asked, bound to its `nonce` and to `access` (`at_hash`)."""
    claims = {"iss": issuer, "aud": client_id, "iat": now, "exp": now + SIGN_IN_SECONDS, "auth_time": now,
              "at_hash": create_half_hash(access, "RS256").decode("ascii")} | someone.profile()  # fmt: skip
    if nonce is not None:
        claims["nonce"] = nonce
    return _signed(data_dir, claims)
