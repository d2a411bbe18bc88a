"""`/token`: a code (with its PKCE verifier) exchanged for an access token the desk accepts and an
ID token for the client; `/userinfo`: who an access token's holder is."""

from __future__ import annotations

import time
from typing import Any

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.dev_identity.clients import authenticate
from services.dev_identity.errors import OAuthError
from services.dev_identity.keys import AUDIENCE, private_key
from services.dev_identity.people import person
from services.dev_identity.provider import provider_of
from services.dev_identity.tokens import SIGN_IN_SECONDS, access_token, id_token

router = APIRouter()


@router.post("/token")
async def exchange(request: Request) -> JSONResponse:
    provider = provider_of(request)
    form = {name: value for name, value in (await request.form()).items() if isinstance(value, str)}
    if form.get("grant_type") != "authorization_code":
        raise OAuthError("unsupported_grant_type", "only grant_type=authorization_code")
    client = authenticate(provider.clients, request.headers.get("authorization"), form)
    if not form.get("code"):
        raise OAuthError("invalid_request", "code is missing")
    grant = provider.codes.redeem(form["code"], client.client_id, form.get("redirect_uri"), form.get("code_verifier"))
    now = int(time.time())
    access = access_token(provider.data_dir, provider.issuer, grant.person, now)
    answer = {
        "access_token": access, "token_type": "Bearer", "expires_in": SIGN_IN_SECONDS, "scope": grant.scope,
        "id_token": id_token(provider.data_dir, provider.issuer, client.client_id, grant.person, grant.nonce, access,
                             now),
    }  # fmt: skip
    return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.api_route("/userinfo", methods=["GET", "POST"])
async def userinfo(request: Request) -> dict[str, Any]:
    provider = provider_of(request)
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not bearer:
        raise OAuthError("invalid_token", "a bearer access token is required", status=401, scheme="Bearer")
    try:
        claims = jwt.decode(bearer.strip(), private_key(provider.data_dir).public_key(), algorithms=["RS256"],
                            audience=AUDIENCE, issuer=provider.issuer, options={"require": ["exp", "sub"]})  # fmt: skip
    except jwt.PyJWTError as error:
        raise OAuthError("invalid_token", f"the access token is not valid: {error}", 401, "Bearer") from None
    someone = person(f"{claims.get('tenant')}/{claims['sub']}")
    if someone is not None:
        return someone.profile()
    return {name: claims.get(name) for name in ("sub", "tenant", "roles", "groups", "organisation")}
