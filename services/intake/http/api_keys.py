"""API keys for systems, managed by the tenant's admin: `/v1/api-keys`."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from services.chassis.http.auth import Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.chassis.http.request_keys import IdempotencyKey, scoped
from services.intake.gateway.api_keys import ApiKeyStore


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="What the key is for, e.g. `crm sync`.")
    role: Role = Field(description="What the key may do: the role of a person who would do the same.")
    groups: list[str] = Field(default_factory=list, max_length=100, description="An agent key's groups.")


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


def router(keys: ApiKeyStore) -> APIRouter:
    api = APIRouter(prefix="/v1/api-keys", tags=["api keys"], dependencies=[requires(Role.ADMIN)])

    @api.post("", status_code=201, responses={200: {"description": "Issued before with this Idempotency-Key."}})
    async def issue(body: NewApiKey, who: CurrentIdentity, keyed: IdempotencyKey, response: Response) -> dict[str, Any]:
        """A new key. The answer carries the key itself, shown this once; only its hash is kept. A retry under
        the same `Idempotency-Key` answers the key it issued (200) without `key`: no second key is issued;
        if the first answer was lost, revoke that key and issue another."""
        key_id, key = await asyncio.to_thread(
            keys.issue, who.tenant, body.name, body.role, body.groups, who.actor, scoped(who, keyed)
        )
        response.status_code = 201 if key is not None else 200
        shown = {"id": key_id, "name": body.name, "role": body.role, "groups": sorted(set(body.groups))}
        return shown | ({"key": key} if key is not None else {})

    @api.get("")
    async def listing(who: CurrentIdentity) -> dict[str, Any]:
        found = await asyncio.to_thread(keys.keys, who.tenant)
        return {"api_keys": found.listing() if found else []}

    @api.post("/{key_id}/revoke")
    async def revoke(key_id: str, body: Revocation, who: CurrentIdentity) -> Response:
        """Revoke for good: the gateway refuses the key within seconds, on every replica."""
        await asyncio.to_thread(keys.change, who.tenant, lambda k: k.revoke(key_id, body.reason, who.actor))
        return Response(status_code=204)

    return api
