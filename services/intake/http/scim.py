"""Provisioning from an organisation's identity provider: SCIM 2.0 (RFC 7644) at `/scim/v2`.

Users are the desk's people and Groups its organisations (http/scim_resources.py says how each attribute
maps). The identity provider authenticates as the tenant's admin: an API key with the admin role, sent as
`Authorization: Bearer sdk_…`. Its errors are SCIM's (`application/scim+json`, RFC 7644 §3.12), not
problem+json, since that is what an identity provider reads. The endpoints describe themselves the SCIM way
(`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`), not in the gateway's OpenAPI document.

Deleting a User deactivates the person: the desk keeps them as the requester of their tickets, and erasing
them stays an admin's act (`/v1/people/{id}/erasure`). Deleting a Group lets its members go; the
organisation stays with its history.

The routes are here; what they do is in http/scim_desk.py, loaded at the first SCIM request: SCIM's models
(scim2-models) cost the gateway a sixth of its start's CPU, and a restarted gateway answers everything
else without them.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.chassis.http.auth import Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.intake.people.directory import Directory
from services.intake.people.index import PeopleIndex

if TYPE_CHECKING:
    from services.intake.http.scim_desk import ScimDesk


def router(directory: Directory, index: PeopleIndex) -> APIRouter:
    api = APIRouter(prefix="/scim/v2", include_in_schema=False, dependencies=[requires(Role.ADMIN)])

    @cache
    def made() -> ScimDesk:
        from services.intake.http.scim_desk import ScimDesk

        return ScimDesk(directory, index)

    async def desk() -> ScimDesk:
        return await asyncio.to_thread(made)  # the first call imports SCIM's models: off the event loop

    # -- Users ---------------------------------------------------------------

    @api.get("/Users")
    async def list_users(request: Request, who: CurrentIdentity) -> Response:
        return await (await desk()).list_users(request, who)

    @api.post("/Users")
    async def create(request: Request, who: CurrentIdentity) -> Response:
        return await (await desk()).create(request, who)

    @api.get("/Users/{person_id}")
    async def read_user(person_id: str, who: CurrentIdentity) -> Response:
        return await (await desk()).read_user(person_id, who)

    @api.put("/Users/{person_id}")
    async def replace_user(person_id: str, request: Request, who: CurrentIdentity) -> Response:
        return await (await desk()).replace_user(person_id, request, who)

    @api.patch("/Users/{person_id}")
    async def patch_user(person_id: str, request: Request, who: CurrentIdentity) -> Response:
        return await (await desk()).patch_user(person_id, request, who)

    @api.delete("/Users/{person_id}")
    async def deactivate(person_id: str, who: CurrentIdentity) -> Response:
        return await (await desk()).deactivate(person_id, who)

    # -- Groups --------------------------------------------------------------

    @api.get("/Groups")
    async def list_groups(request: Request, who: CurrentIdentity) -> Response:
        return await (await desk()).list_groups(request, who)

    @api.post("/Groups")
    async def create_group(request: Request, who: CurrentIdentity) -> Response:
        return await (await desk()).create_group(request, who)

    @api.get("/Groups/{group_id}")
    async def read_group(group_id: str, who: CurrentIdentity) -> Response:
        return await (await desk()).read_group(group_id, who)

    @api.put("/Groups/{group_id}")
    async def replace_group(group_id: str, request: Request, who: CurrentIdentity) -> Response:
        return await (await desk()).replace_group(group_id, request, who)

    @api.patch("/Groups/{group_id}")
    async def patch_group(group_id: str, request: Request, who: CurrentIdentity) -> Response:
        return await (await desk()).patch_group(group_id, request, who)

    @api.delete("/Groups/{group_id}")
    async def let_members_go(group_id: str, who: CurrentIdentity) -> Response:
        return await (await desk()).let_members_go(group_id, who)

    # -- what the service is -------------------------------------------------

    @api.get("/ServiceProviderConfig")
    async def service_provider_config() -> Response:
        return await (await desk()).service_provider_config()

    @api.get("/ResourceTypes")
    async def resource_types(request: Request) -> Response:
        return await (await desk()).resource_types(request)

    @api.get("/Schemas")
    async def schemas(request: Request) -> Response:
        return await (await desk()).schemas(request)

    return api
