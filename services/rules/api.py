"""The triggers API (`/v1/triggers`, behind the gateway): admins make and change triggers, supervisors read
them (agents and customers: 403). A change names the version read in `If-Match` (412 when it moved on);
a retired trigger is read still, with its versions and firings, and changed no more (422)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from services.chassis.domain.admin_changes import change_name
from services.chassis.http import openapi
from services.chassis.http.auth import Role
from services.chassis.http.etag import etag, expected_version
from services.chassis.http.identity import CurrentIdentity, requires
from services.rules.application import Rules
from services.rules.calendars import SlaCalendars
from services.rules.domain import Trigger
from services.rules.field_kinds import IntakeFields
from services.rules.requests import DisableRequest, TriggerChange, TriggerOrder, TriggerSpec

TriggerId = Annotated[UUID, Path()]
IfMatch = Annotated[
    str | None, Header(description='The ETag read (e.g. "3"): the change is refused with 412 if the trigger moved on.')
]
ADMIN = [requires(Role.ADMIN)]


def view(trigger: Trigger, position: int | None = None) -> dict[str, Any]:
    return {
        "id": str(trigger.id),
        "version": trigger.version,
        "position": position,
        "enabled": trigger.enabled,
        "disabled_reason": trigger.disabled_reason,
        "retired": trigger.retired,
    } | trigger.spec


def _answer(rules: Rules, trigger: Trigger, status_code: int = 200) -> JSONResponse:
    """The trigger with its place in the order (null once retired) and its version as ETag."""
    ids = [str(t.id) for t in rules.triggers(trigger.tenant)]
    position = ids.index(str(trigger.id)) if str(trigger.id) in ids else None
    return JSONResponse(view(trigger, position), status_code=status_code, headers={"ETag": etag(trigger.version)})


def router(rules: Rules, calendars: SlaCalendars | None = None, fields: IntakeFields | None = None) -> APIRouter:
    async def stored(body: TriggerSpec, who: CurrentIdentity) -> dict[str, Any]:
        """The spec to keep, with the SLA calendars its business-hours conditions name read now (calendars.py), and
        the custom fields its conditions name read from intake (field_kinds.py)."""
        names, keys = body.calendars(), body.custom_fields()
        found = await calendars.named(who, names) if calendars is not None and names else None
        defined = await fields.named(who, keys) if fields is not None and keys else ({} if keys else None)
        return body.stored(found, defined)

    api = APIRouter(prefix="/v1/triggers", tags=["triggers"], dependencies=[requires(Role.SUPERVISOR, Role.ADMIN)])

    @api.post("", status_code=201, dependencies=ADMIN, responses=openapi.problems(422, 503))
    async def create(body: TriggerSpec, who: CurrentIdentity) -> JSONResponse:
        """Make a trigger, enabled, last in the order. `if` conditions are `{field, op, value}`; a wrong one is
        refused naming its place (`if[2].field`). A business-hours condition's calendar is read from the SLA
        service now (503 when it does not answer) and kept with this version; so is the kind of a custom field a
        condition names (`custom_fields.<key>`), read from intake: a field the tenant lacks, or a text or date
        field (never on the public events), is refused naming `if.custom_fields.<key>`."""
        trigger = await asyncio.to_thread(rules.create_trigger, who.tenant, await stored(body, who), who.actor)
        return await asyncio.to_thread(_answer, rules, trigger, 201)

    @api.get("")
    async def list_triggers(who: CurrentIdentity) -> dict[str, Any]:
        """The tenant's triggers in the order they run (retired ones are not listed)."""
        triggers = await asyncio.to_thread(rules.triggers, who.tenant)
        return {"triggers": [view(t, i) for i, t in enumerate(triggers)]}

    @api.post("/order", dependencies=ADMIN, responses=openapi.problems(422))
    async def reorder(body: TriggerOrder, who: CurrentIdentity) -> dict[str, Any]:
        """A new order: every live trigger's id once, first run first."""
        await asyncio.to_thread(rules.reorder, who.tenant, body.ids, who.actor)
        return await list_triggers(who)

    @api.get("/{trigger_id}", responses=openapi.problems(404))
    async def read(trigger_id: TriggerId, who: CurrentIdentity) -> JSONResponse:
        """A trigger (a retired one too) with its version as ETag."""
        trigger = await asyncio.to_thread(rules.trigger, who.tenant, trigger_id)
        return await asyncio.to_thread(_answer, rules, trigger)

    @api.patch("/{trigger_id}", dependencies=ADMIN, responses=openapi.problems(404, 412, 422, 503))
    async def revise(trigger_id: TriggerId, body: TriggerChange, who: CurrentIdentity, if_match: IfMatch = None) -> Any:
        """Revise a trigger: the parts given replace its own, a new version (its calendars read again)."""
        version = expected_version(if_match)
        current = await asyncio.to_thread(rules.trigger, who.tenant, trigger_id)
        spec = await stored(body.applied_to(current.spec), who)
        change = lambda t: t.revise(spec, who.actor)  # noqa: E731
        changed = await asyncio.to_thread(rules.change_trigger, who.tenant, trigger_id, change, version)
        return await asyncio.to_thread(_answer, rules, changed)

    @api.delete("/{trigger_id}", status_code=204, dependencies=ADMIN, responses=openapi.problems(404, 412, 422))
    async def retire(trigger_id: TriggerId, who: CurrentIdentity, if_match: IfMatch = None) -> Response:
        """Retire a trigger: it fires no more and leaves the order; it stays readable with its history."""
        change = lambda t: t.retire(who.actor)  # noqa: E731
        await asyncio.to_thread(rules.change_trigger, who.tenant, trigger_id, change, expected_version(if_match))
        return Response(status_code=204)

    @api.post("/{trigger_id}/disable", dependencies=ADMIN, responses=openapi.problems(404, 412, 422))
    async def disable(
        trigger_id: TriggerId, who: CurrentIdentity, body: DisableRequest | None = None, if_match: IfMatch = None
    ) -> Any:
        """Stop a trigger firing, keeping its place in the order."""
        reason = (body or DisableRequest()).reason
        change = lambda t: t.disable(reason, who.actor)  # noqa: E731
        changed = await asyncio.to_thread(
            rules.change_trigger, who.tenant, trigger_id, change, expected_version(if_match)
        )
        return await asyncio.to_thread(_answer, rules, changed)

    @api.post("/{trigger_id}/enable", dependencies=ADMIN, responses=openapi.problems(404, 412, 422))
    async def enable(trigger_id: TriggerId, who: CurrentIdentity, if_match: IfMatch = None) -> Any:
        """Let a disabled trigger fire again."""
        change = lambda t: t.enable(who.actor)  # noqa: E731
        changed = await asyncio.to_thread(
            rules.change_trigger, who.tenant, trigger_id, change, expected_version(if_match)
        )
        return await asyncio.to_thread(_answer, rules, changed)

    @api.get("/{trigger_id}/versions", responses=openapi.problems(404))
    async def versions(trigger_id: TriggerId, who: CurrentIdentity) -> dict[str, Any]:
        """Every version of the trigger, oldest first: what changed (`trigger.created`, `trigger.revised`,
        `trigger.disabled`, `trigger.enabled`, `trigger.retired`), when, by whom, and the spec then."""
        events = await asyncio.to_thread(rules.versions, who.tenant, trigger_id)
        found: list[dict[str, Any]] = []
        spec: dict[str, Any] = {}
        for event in events:
            spec = getattr(event, "spec", spec)
            change = "trigger." + change_name(event).removeprefix("_")
            found.append({"version": event.originator_version, "change": change, "at": event.timestamp.isoformat(),
                          "by": getattr(event, "by", ""), "spec": spec})  # fmt: skip
        return {"versions": found}

    @api.get("/{trigger_id}/firings", responses=openapi.problems(404))
    async def firings(
        trigger_id: TriggerId,
        who: CurrentIdentity,
        limit: Annotated[int, Query(ge=1, le=200, description="How many, newest first.")] = 20,
    ) -> dict[str, Any]:
        """The trigger's last firings, newest first: the ticket, the version that fired, the event, the reason
        in words and the actions."""
        return {"firings": await asyncio.to_thread(rules.firings, who.tenant, trigger_id, limit)}

    return api


def create_app(
    app: FastAPI, rules: Rules, calendars: SlaCalendars | None = None, fields: IntakeFields | None = None
) -> FastAPI:
    app.include_router(router(rules, calendars, fields))
    return app
