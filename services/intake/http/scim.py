"""Provisioning from an organisation's identity provider: SCIM 2.0 (RFC 7644) at `/scim/v2`.

Users are the desk's people and Groups its organisations (http/scim_resources.py says how each attribute
maps). The identity provider authenticates as the tenant's admin: an API key with the admin role, sent as
`Authorization: Bearer sdk_…`. Its errors are SCIM's (`application/scim+json`, RFC 7644 §3.12), not
problem+json, since that is what an identity provider reads. The endpoints describe themselves the SCIM way
(`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`), not in the gateway's OpenAPI document.

Deleting a User deactivates the person: the desk keeps them as the requester of their tickets, and erasing
them stays an admin's act (`/v1/people/{id}/erasure`). Deleting a Group lets its members go; the
organisation stays with its history.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from fastapi import APIRouter, Request
from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Group,
    InvalidFilterException,
    NotFoundException,
    Patch,
    PatchOp,
    ResourceType,
    SCIMException,
    ScimFilter,
    ServiceProviderConfig,
    Sort,
    User,
)
from starlette.responses import JSONResponse, Response

from services.chassis.http.auth import Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.intake.http.scim_resources import (
    PersonRecord,
    dumped,
    group_of,
    member_ids,
    record_of,
    stale_name_dropped,
    user_of,
)
from services.intake.people.directory import AddressHeldError, Directory, DirectoryError
from services.intake.people.finder import Profile
from services.intake.people.index import PeopleIndex
from services.intake.people.organisations import Organisation

MEDIA = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
MAX_RESULTS = 200
EVERYONE = 10_000  # the most people a filter other than on an address is evaluated over
Route = TypeVar("Route", bound=Callable[..., Awaitable[Response]])
_BY_ADDRESS = re.compile(r'^\s*(userName|emails(?:\.value)?)\s+eq\s+"([^"\\]*)"\s*$', re.IGNORECASE)


def _answer(body: dict[str, Any], status: int = 200, location: str | None = None) -> JSONResponse:
    headers = {"Location": location} if location else None
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def _error(status: int, detail: str, scim_type: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return _answer(body, status)


def scim_errors(route: Route) -> Route:
    """`route`, its refusals answered as SCIM errors."""

    @functools.wraps(route)
    async def answered(*args: Any, **kwargs: Any) -> Response:
        try:
            return await route(*args, **kwargs)
        except SCIMException as error:
            return _error(int(error.status), error.detail or str(error), error.scim_type or None)
        except ValidationError as error:
            return _error(400, "; ".join(str(e["msg"]) for e in error.errors()), "invalidValue")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "the body is not JSON", "invalidSyntax")
        except AddressHeldError as error:
            return _error(409, error.message, "uniqueness")
        except DirectoryError as error:
            status = error.status if error.status in (404, 409, 410) else 400
            return _error(status, error.message, None if status != 400 else "invalidValue")

    return cast(Route, answered)


def _paged(request: Request, resources: list[Any]) -> dict[str, Any]:
    start = max(1, _number(request, "startIndex", 1))
    count = max(0, min(MAX_RESULTS, _number(request, "count", MAX_RESULTS)))
    page = resources[start - 1 : start - 1 + count]
    return {
        "schemas": [LIST],
        "totalResults": len(resources),
        "startIndex": start,
        "itemsPerPage": len(page),
        "Resources": [dumped(resource, Context.RESOURCE_QUERY_RESPONSE) for resource in page],
    }


def _number(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        raise InvalidFilterException(detail=f"{name} is not a number") from None


def router(directory: Directory, index: PeopleIndex) -> APIRouter:
    api = APIRouter(prefix="/scim/v2", include_in_schema=False, dependencies=[requires(Role.ADMIN)])
    people = directory.people

    def profile(tenant: str, person_id: str) -> Profile:
        found = people.profile(tenant, person_id)
        if found is None or found.erased or found.merged_into is not None:
            raise NotFoundException(detail=f"no user {person_id!r}")
        return found

    def user(tenant: str, person_id: str) -> User[Any]:
        found = profile(tenant, person_id)
        organisation = directory.organisation(tenant, found.organisation_id) if found.organisation_id else None
        return user_of(found, organisation)

    def users(tenant: str, expression: str | None) -> list[User[Any]]:
        if expression and (by_address := _BY_ADDRESS.match(expression)):
            holder = people.holder_of(tenant, people.blind(tenant, "email", by_address.group(2)))
            return [user(tenant, str(holder.id))] if holder is not None else []  # the store: no lag
        candidates = [user(tenant, p) for p in index.people(tenant, None, None, EVERYONE)]
        if not expression:
            return candidates
        chosen = ScimFilter[User[Any]](expression)
        return [found for found in candidates if chosen.match(found)]

    def provision(tenant: str, person_id: str, record: PersonRecord, by: str) -> User[Any]:
        directory.provision(tenant, person_id, record.details, record.emails, "email", record.active, by)
        return user(tenant, person_id)

    def create_user(tenant: str, record: PersonRecord, by: str) -> User[Any]:
        """One save; an address another person holds is refused in it (409, `uniqueness`)."""
        person_id = directory.register_person(tenant, record.details, record.emails, by, active=record.active)
        return user(tenant, person_id)

    def organisation(tenant: str, group_id: str) -> Organisation:
        try:
            return directory.organisation(tenant, group_id, field="id")
        except DirectoryError:
            raise NotFoundException(detail=f"no group {group_id!r}") from None

    def group(tenant: str, group_id: str) -> Group:
        found = organisation(tenant, group_id)
        members = [people.profile(tenant, p) for p in index.people(tenant, None, group_id, EVERYONE)]
        return group_of(found, [m for m in members if m is not None and not m.erased])

    def groups(tenant: str, expression: str | None) -> list[Group]:
        candidates = [group(tenant, g) for g in index.organisations(tenant)]
        if not expression:
            return candidates
        chosen = ScimFilter[Group](expression)
        return [found for found in candidates if chosen.match(found)]

    def set_group(tenant: str, group_id: str, wanted: Group, by: str) -> Group:
        """The organisation named as `wanted` says, with exactly its members."""
        now = group(tenant, group_id)
        if wanted.display_name and wanted.display_name != now.display_name:
            directory.change_organisation(tenant, group_id, {"name": wanted.display_name[:200]}, by)
        before, after = set(member_ids(now)), set(member_ids(wanted))
        for person_id in sorted(after - before):
            profile(tenant, person_id)  # 404 for an unknown member, before anyone moves
        for person_id in sorted(after - before):
            directory.change_person(tenant, person_id, {"organisation_id": group_id}, by)
        for person_id in sorted(before - after):
            directory.change_person(tenant, person_id, {"organisation_id": None}, by)
        members = [people.profile(tenant, p) for p in member_ids(wanted)]  # as stored: the list may lag
        return group_of(organisation(tenant, group_id), [m for m in members if m is not None])

    async def body_of(request: Request) -> Any:
        return json.loads(await request.body() or b"null")

    async def run(function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(function, *args)

    # -- Users ---------------------------------------------------------------

    @api.get("/Users")
    @scim_errors
    async def list_users(request: Request, who: CurrentIdentity) -> Response:
        return _answer(_paged(request, await run(users, who.tenant, request.query_params.get("filter"))))

    @api.post("/Users")
    @scim_errors
    async def create(request: Request, who: CurrentIdentity) -> Response:
        sent: User[Any] = User.model_validate(await body_of(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        made: User[Any] = await run(create_user, who.tenant, record_of(sent), who.actor)
        return _answer(dumped(made, Context.RESOURCE_CREATION_RESPONSE), 201, f"/scim/v2/Users/{made.id}")

    @api.get("/Users/{person_id}")
    @scim_errors
    async def read_user(person_id: str, who: CurrentIdentity) -> Response:
        return _answer(dumped(await run(user, who.tenant, person_id), Context.RESOURCE_QUERY_RESPONSE))

    @api.put("/Users/{person_id}")
    @scim_errors
    async def replace_user(person_id: str, request: Request, who: CurrentIdentity) -> Response:
        sent: User[Any] = User.model_validate(await body_of(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        await run(profile, who.tenant, person_id)
        done = await run(provision, who.tenant, person_id, record_of(sent), who.actor)
        return _answer(dumped(done, Context.RESOURCE_REPLACEMENT_RESPONSE))

    @api.patch("/Users/{person_id}")
    @scim_errors
    async def patch_user(person_id: str, request: Request, who: CurrentIdentity) -> Response:
        operations = PatchOp[User[Any]].model_validate(await body_of(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        current: User[Any] = await run(user, who.tenant, person_id)
        before = current.model_copy(deep=True)
        operations.patch(current)
        stale_name_dropped(before, current)
        done = await run(provision, who.tenant, person_id, record_of(current), who.actor)
        return _answer(dumped(done, Context.RESOURCE_PATCH_RESPONSE))

    @api.delete("/Users/{person_id}")
    @scim_errors
    async def deactivate(person_id: str, who: CurrentIdentity) -> Response:
        current: User[Any] = await run(user, who.tenant, person_id)
        current.active = False
        await run(provision, who.tenant, person_id, record_of(current), who.actor)
        return Response(status_code=204)

    # -- Groups --------------------------------------------------------------

    @api.get("/Groups")
    @scim_errors
    async def list_groups(request: Request, who: CurrentIdentity) -> Response:
        return _answer(_paged(request, await run(groups, who.tenant, request.query_params.get("filter"))))

    @api.post("/Groups")
    @scim_errors
    async def create_group(request: Request, who: CurrentIdentity) -> Response:
        sent: Group = Group.model_validate(await body_of(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        details: dict[str, Any] = {"name": (sent.display_name or "")[:200], "domains": [], "sla_calendar_id": None,
                                   "sla_policy_id": None, "custom_fields": {}}  # fmt: skip
        group_id = await run(directory.register_organisation, who.tenant, details, who.actor)
        made: Group = await run(set_group, who.tenant, group_id, sent, who.actor)
        return _answer(dumped(made, Context.RESOURCE_CREATION_RESPONSE), 201, f"/scim/v2/Groups/{group_id}")

    @api.get("/Groups/{group_id}")
    @scim_errors
    async def read_group(group_id: str, who: CurrentIdentity) -> Response:
        return _answer(dumped(await run(group, who.tenant, group_id), Context.RESOURCE_QUERY_RESPONSE))

    @api.put("/Groups/{group_id}")
    @scim_errors
    async def replace_group(group_id: str, request: Request, who: CurrentIdentity) -> Response:
        sent: Group = Group.model_validate(await body_of(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        done = await run(set_group, who.tenant, group_id, sent, who.actor)
        return _answer(dumped(done, Context.RESOURCE_REPLACEMENT_RESPONSE))

    @api.patch("/Groups/{group_id}")
    @scim_errors
    async def patch_group(group_id: str, request: Request, who: CurrentIdentity) -> Response:
        operations = PatchOp[Group].model_validate(await body_of(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        current: Group = await run(group, who.tenant, group_id)
        operations.patch(current)
        done = await run(set_group, who.tenant, group_id, current, who.actor)
        return _answer(dumped(done, Context.RESOURCE_PATCH_RESPONSE))

    @api.delete("/Groups/{group_id}")
    @scim_errors
    async def let_members_go(group_id: str, who: CurrentIdentity) -> Response:
        current: Group = await run(group, who.tenant, group_id)
        current.members = []
        await run(set_group, who.tenant, group_id, current, who.actor)
        return Response(status_code=204)

    # -- what the service is -------------------------------------------------

    @api.get("/ServiceProviderConfig")
    async def service_provider_config() -> Response:
        config = ServiceProviderConfig(
            patch=Patch(supported=True),
            bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
            filter=Filter(supported=True, max_results=MAX_RESULTS),
            change_password=ChangePassword(supported=False),
            sort=Sort(supported=False),
            etag=ETag(supported=False),
            authentication_schemes=[
                AuthenticationScheme(
                    type="oauthbearertoken",
                    name="API key",
                    description="An API key of the tenant with the admin role, as a bearer token.",
                )
            ],
        )
        return _answer(dumped(config, Context.RESOURCE_QUERY_RESPONSE))

    @api.get("/ResourceTypes")
    async def resource_types(request: Request) -> Response:
        types = [ResourceType.from_resource(User), ResourceType.from_resource(Group)]
        return _answer(_paged(request, types))

    @api.get("/Schemas")
    async def schemas(request: Request) -> Response:
        return _answer(_paged(request, [User[Any].to_schema(), Group.to_schema()]))

    return api
