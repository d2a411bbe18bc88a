"""What SCIM's endpoints do (http/scim.py routes them, and says what a User and a Group are to the desk):
people and organisations read, provisioned and changed as SCIM 2.0 resources, refusals answered as SCIM
errors (`application/scim+json`, RFC 7644 §3.12)."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from fastapi import Request
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

from services.chassis.http.identity import Identity
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


class ScimDesk:
    """The directory and the people's index as SCIM sees them: each endpoint of http/scim.py is a method."""

    def __init__(self, directory: Directory, index: PeopleIndex) -> None:
        self.directory = directory
        self.index = index
        self.people = directory.people

    def profile(self, tenant: str, person_id: str) -> Profile:
        found = self.people.profile(tenant, person_id)
        if found is None or found.erased or found.merged_into is not None:
            raise NotFoundException(detail=f"no user {person_id!r}")
        return found

    def user(self, tenant: str, person_id: str) -> User[Any]:
        found = self.profile(tenant, person_id)
        organisation = self.directory.organisation(tenant, found.organisation_id) if found.organisation_id else None
        return user_of(found, organisation)

    def users(self, tenant: str, expression: str | None) -> list[User[Any]]:
        if expression and (by_address := _BY_ADDRESS.match(expression)):
            holder = self.people.holder_of(tenant, self.people.blind(tenant, "email", by_address.group(2)))
            return [self.user(tenant, str(holder.id))] if holder is not None else []  # the store: no lag
        candidates = [self.user(tenant, p) for p in self.index.people(tenant, None, None, EVERYONE)]
        if not expression:
            return candidates
        chosen = ScimFilter[User[Any]](expression)
        return [found for found in candidates if chosen.match(found)]

    def provision(self, tenant: str, person_id: str, record: PersonRecord, by: str) -> User[Any]:
        self.directory.provision(tenant, person_id, record.details, record.emails, "email", record.active, by)
        return self.user(tenant, person_id)

    def create_user(self, tenant: str, record: PersonRecord, by: str) -> User[Any]:
        """One save; an address another person holds is refused in it (409, `uniqueness`)."""
        person_id = self.directory.register_person(tenant, record.details, record.emails, by, active=record.active)
        return self.user(tenant, person_id)

    def organisation(self, tenant: str, group_id: str) -> Organisation:
        try:
            return self.directory.organisation(tenant, group_id, field="id")
        except DirectoryError:
            raise NotFoundException(detail=f"no group {group_id!r}") from None

    def group(self, tenant: str, group_id: str) -> Group:
        found = self.organisation(tenant, group_id)
        members = [self.people.profile(tenant, p) for p in self.index.people(tenant, None, group_id, EVERYONE)]
        return group_of(found, [m for m in members if m is not None and not m.erased])

    def groups(self, tenant: str, expression: str | None) -> list[Group]:
        candidates = [self.group(tenant, g) for g in self.index.organisations(tenant)]
        if not expression:
            return candidates
        chosen = ScimFilter[Group](expression)
        return [found for found in candidates if chosen.match(found)]

    def set_group(self, tenant: str, group_id: str, wanted: Group, by: str) -> Group:
        """The organisation named as `wanted` says, with exactly its members."""
        now = self.group(tenant, group_id)
        if wanted.display_name and wanted.display_name != now.display_name:
            self.directory.change_organisation(tenant, group_id, {"name": wanted.display_name[:200]}, by)
        before, after = set(member_ids(now)), set(member_ids(wanted))
        for person_id in sorted(after - before):
            self.profile(tenant, person_id)  # 404 for an unknown member, before anyone moves
        for person_id in sorted(after - before):
            self.directory.change_person(tenant, person_id, {"organisation_id": group_id}, by)
        for person_id in sorted(before - after):
            self.directory.change_person(tenant, person_id, {"organisation_id": None}, by)
        members = [self.people.profile(tenant, p) for p in member_ids(wanted)]  # as stored: the list may lag
        return group_of(self.organisation(tenant, group_id), [m for m in members if m is not None])

    async def body_of(self, request: Request) -> Any:
        return json.loads(await request.body() or b"null")

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(function, *args)

    # -- Users ---------------------------------------------------------------

    @scim_errors
    async def list_users(self, request: Request, who: Identity) -> Response:
        await self.index.holding_the_store()
        return _answer(_paged(request, await self.run(self.users, who.tenant, request.query_params.get("filter"))))

    @scim_errors
    async def create(self, request: Request, who: Identity) -> Response:
        sent: User[Any] = User.model_validate(await self.body_of(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        made: User[Any] = await self.run(self.create_user, who.tenant, record_of(sent), who.actor)
        return _answer(dumped(made, Context.RESOURCE_CREATION_RESPONSE), 201, f"/scim/v2/Users/{made.id}")

    @scim_errors
    async def read_user(self, person_id: str, who: Identity) -> Response:
        return _answer(dumped(await self.run(self.user, who.tenant, person_id), Context.RESOURCE_QUERY_RESPONSE))

    @scim_errors
    async def replace_user(self, person_id: str, request: Request, who: Identity) -> Response:
        sent: User[Any] = User.model_validate(
            await self.body_of(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST
        )
        await self.run(self.profile, who.tenant, person_id)
        done = await self.run(self.provision, who.tenant, person_id, record_of(sent), who.actor)
        return _answer(dumped(done, Context.RESOURCE_REPLACEMENT_RESPONSE))

    @scim_errors
    async def patch_user(self, person_id: str, request: Request, who: Identity) -> Response:
        operations = PatchOp[User[Any]].model_validate(
            await self.body_of(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST
        )
        current: User[Any] = await self.run(self.user, who.tenant, person_id)
        before = current.model_copy(deep=True)
        operations.patch(current)
        stale_name_dropped(before, current)
        done = await self.run(self.provision, who.tenant, person_id, record_of(current), who.actor)
        return _answer(dumped(done, Context.RESOURCE_PATCH_RESPONSE))

    @scim_errors
    async def deactivate(self, person_id: str, who: Identity) -> Response:
        current: User[Any] = await self.run(self.user, who.tenant, person_id)
        current.active = False
        await self.run(self.provision, who.tenant, person_id, record_of(current), who.actor)
        return Response(status_code=204)

    # -- Groups --------------------------------------------------------------

    @scim_errors
    async def list_groups(self, request: Request, who: Identity) -> Response:
        await self.index.holding_the_store()
        return _answer(_paged(request, await self.run(self.groups, who.tenant, request.query_params.get("filter"))))

    @scim_errors
    async def create_group(self, request: Request, who: Identity) -> Response:
        sent: Group = Group.model_validate(await self.body_of(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        details: dict[str, Any] = {"name": (sent.display_name or "")[:200], "domains": [], "sla_calendar_id": None,
                                   "sla_policy_id": None, "custom_fields": {}}  # fmt: skip
        group_id = await self.run(self.directory.register_organisation, who.tenant, details, who.actor)
        made: Group = await self.run(self.set_group, who.tenant, group_id, sent, who.actor)
        return _answer(dumped(made, Context.RESOURCE_CREATION_RESPONSE), 201, f"/scim/v2/Groups/{group_id}")

    @scim_errors
    async def read_group(self, group_id: str, who: Identity) -> Response:
        await self.index.holding_the_store()
        return _answer(dumped(await self.run(self.group, who.tenant, group_id), Context.RESOURCE_QUERY_RESPONSE))

    @scim_errors
    async def replace_group(self, group_id: str, request: Request, who: Identity) -> Response:
        sent: Group = Group.model_validate(await self.body_of(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        await self.index.holding_the_store()  # whoever left the group is every member it has, not the list's
        done = await self.run(self.set_group, who.tenant, group_id, sent, who.actor)
        return _answer(dumped(done, Context.RESOURCE_REPLACEMENT_RESPONSE))

    @scim_errors
    async def patch_group(self, group_id: str, request: Request, who: Identity) -> Response:
        operations = PatchOp[Group].model_validate(await self.body_of(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        await self.index.holding_the_store()  # the members patched are all of them, not those the list shows yet
        current: Group = await self.run(self.group, who.tenant, group_id)
        operations.patch(current)
        done = await self.run(self.set_group, who.tenant, group_id, current, who.actor)
        return _answer(dumped(done, Context.RESOURCE_PATCH_RESPONSE))

    @scim_errors
    async def let_members_go(self, group_id: str, who: Identity) -> Response:
        await self.index.holding_the_store()
        current: Group = await self.run(self.group, who.tenant, group_id)
        current.members = []
        await self.run(self.set_group, who.tenant, group_id, current, who.actor)
        return Response(status_code=204)

    # -- what the service is -------------------------------------------------

    async def service_provider_config(self) -> Response:
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

    async def resource_types(self, request: Request) -> Response:
        types = [ResourceType.from_resource(User), ResourceType.from_resource(Group)]
        return _answer(_paged(request, types))

    async def schemas(self, request: Request) -> Response:
        return _answer(_paged(request, [User[Any].to_schema(), Group.to_schema()]))
