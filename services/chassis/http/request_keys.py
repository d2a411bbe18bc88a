"""The `Idempotency-Key` header of a POST, as a route dependency: the key and the request's
fingerprint (`RequestKey`), or None when the request has no key; `scoped` makes it the caller's own
(`idempotency.KeyedRequest`).

The dependency does not ask who the caller is: the route does (`CurrentIdentity`), and scopes the key
with it. FastAPI solves a dependency's own dependencies before it looks in its per-request cache, so
a key that asked for the identity too would have the identity's headers and security schemes solved
a second time on every keyed request (the identity itself runs once either way).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from services.chassis.http.identity import Identity
from services.chassis.storage.idempotency import KeyedRequest

DESCRIPTION = (
    "A key of the caller's choosing (IETF Idempotency-Key): a retry with the same key and the same request is "
    "carried out once and answered as the first time; the same key with another request is a 422 "
    "(`rule: idempotency-key-reused`). Keys are the caller's own: nobody else's request ever matches one."
)
IdempotencyKeyHeader = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200, description=DESCRIPTION)
]


def fingerprint(request: Request, body: bytes, parsed: object = None) -> str:
    """SHA-256 of method, path, query and body (JSON canonically: key order and spacing do not count;
    `parsed`, when not None, is the body already parsed as JSON)."""
    try:
        if parsed is None and body:
            parsed = json.loads(body)
        canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        canonical = body
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))
    head = f"{request.method} {request.url.path}?{query}\n".encode()
    return hashlib.sha256(head + canonical).hexdigest()


@dataclass(frozen=True)
class RequestKey:
    """An `Idempotency-Key` as the request sent it, and the request's fingerprint."""

    key: str
    fingerprint: str

    def of(self, who: Identity) -> KeyedRequest:
        """The key as the caller's own: their tenant and principal (and API key) scope it."""
        principal = who.principal
        caller = principal.subject if principal.api_key is None else f"{principal.subject} key:{principal.api_key}"
        return KeyedRequest.of(who.tenant, caller, self.key, self.fingerprint)


def scoped(who: Identity, key: RequestKey | None) -> KeyedRequest | None:
    """The request's key as `who`'s own, or None when the request has no key."""
    return None if key is None else key.of(who)


async def _with_body(request: Request, key: IdempotencyKeyHeader = None) -> RequestKey | None:
    if key is None:
        return None
    body = await request.body()
    return RequestKey(key, fingerprint(request, body, await _parsed(request) if body else None))


async def _parsed(request: Request) -> object:
    """The body as JSON, as the route parsed it already (Starlette keeps it), or None if it is no JSON."""
    try:
        return await request.json()
    except ValueError:
        return None


async def _without_body(request: Request, key: IdempotencyKeyHeader = None) -> RequestKey | None:
    """For a route that streams its body: the fingerprint covers the rest, and the route adds the body's
    digest once it has read it (`KeyedRequest.covering`)."""
    return None if key is None else RequestKey(key, fingerprint(request, b""))


IdempotencyKey = Annotated[RequestKey | None, Depends(_with_body)]
StreamedIdempotencyKey = Annotated[RequestKey | None, Depends(_without_body)]
