"""Macros: canned replies with actions, `/v1/macros`, and applying one to a ticket (the tenant's staff only).

Any of the staff makes and changes their personal macros; supervisors and admins the shared ones
(403 for others), which are listed for the staff of their groups. Someone else's personal macro is not
there (404). Applying (`POST /v1/tickets/{id}/macros/{macro_id}`) is one command on the ticket, keyed
like the other ticket commands; `/preview` renders it without effect.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from services.chassis.http import openapi
from services.chassis.http.auth import STAFF, Forbidden, Role
from services.chassis.http.etag import etag, expected_version
from services.chassis.http.identity import CurrentIdentity, Identity, requires
from services.chassis.http.request_keys import IdempotencyKey
from services.intake.http.common import IfMatch, cause_of, ticket_response
from services.intake.http.macro_models import (
    ApplyMacro,
    MacroChange,
    MacroList,
    MacroPreview,
    MacroSpec,
    MacroVersion,
    MacroVersions,
    MacroView,
)
from services.intake.macros.applying import MacroDesk
from services.intake.macros.domain import Caller, Macro, MacroRefusedError, Scope
from services.intake.macros.texts import MacroTextError
from services.intake.tickets.access import visible_ticket
from services.intake.tickets.application import Intake
from services.intake.tickets.fields import CustomFieldError

MacroId = Annotated[UUID, Path()]
MacroIfMatch = Annotated[
    str | None, Header(description='The ETag read (e.g. "3"): the change is refused with 412 if the macro moved on.')
]


def caller_of(who: Identity) -> Caller:
    return Caller(who.actor, who.principal.groups, manages=who.principal.has(Role.SUPERVISOR, Role.ADMIN))


def _matches(macro: Macro, q: str | None, group: str | None, language: str | None) -> bool:
    spec = macro.spec
    words = f"{spec['title']}\n" + "\n".join(spec["body"].values())
    return (
        (not q or q.casefold() in words.casefold())
        and (not group or macro.scope == Scope.PERSONAL or not spec["groups"] or group in spec["groups"])
        and (not language or language in spec["body"])
    )


def _refused(call: Any, *args: Any, **named: Any) -> Any:
    """Run an application call, its refusals as the API says them (403, 422 naming the field)."""
    try:
        return call(*args, **named)
    except MacroRefusedError as refused:
        raise Forbidden(str(refused), rule="macro-scope") from None
    except MacroTextError as error:
        message = f"Value error, {error.message}"
        raise RequestValidationError(
            [{"loc": ("body", "body", error.language), "msg": message, "type": "value_error"}]
        ) from None
    except CustomFieldError as error:
        loc = ("body", "actions", "custom_fields", error.key)
        raise RequestValidationError(
            [{"loc": loc, "msg": f"Value error, {error.message}", "type": "value_error"}]
        ) from None


def _answer(macro: Macro, status_code: int = 200) -> JSONResponse:
    body = MacroView.of(macro).model_dump(mode="json")
    return JSONResponse(body, status_code=status_code, headers={"ETag": etag(macro.version)})


def router(intake: Intake, desk: MacroDesk) -> APIRouter:
    staff = [requires(*STAFF)]
    api = APIRouter(tags=["macros"], dependencies=staff)

    @api.post("/v1/macros", status_code=201, response_model=MacroView, responses=openapi.problems(403))
    async def create_macro(body: MacroSpec, who: CurrentIdentity) -> JSONResponse:
        """Make a macro: a personal one (any of the staff) or a shared one (supervisors and admins, 403 others)."""
        spec = body.stored()
        macro = await asyncio.to_thread(_refused, intake.create_macro, who.tenant, body.scope, spec, caller_of(who))
        return _answer(macro, 201)

    @api.get("/v1/macros", response_model=MacroList)
    async def list_macros(
        who: CurrentIdentity,
        q: Annotated[str | None, Query(max_length=200, description="Words of the title or a body.")] = None,
        group: Annotated[str | None, Query(max_length=100, description="Shared ones for this group.")] = None,
        language: Annotated[str | None, Query(pattern=r"^[a-z]{2}$", description="With a body in it.")] = None,
    ) -> MacroList:
        """The macros the caller may use: the shared ones of their groups (a supervisor's or admin's: all) and
        their own, in the order they were made; retired ones are not listed."""
        macros = await asyncio.to_thread(intake.macros_of, who.tenant, caller_of(who))
        return MacroList(macros=[MacroView.of(m) for m in macros if _matches(m, q, group, language)])

    @api.get("/v1/macros/{macro_id}", response_model=MacroView, responses=openapi.problems(404))
    async def get_macro(macro_id: MacroId, who: CurrentIdentity) -> JSONResponse:
        """A macro (a retired one too) with its version as ETag."""
        return _answer(await asyncio.to_thread(intake.macro, who.tenant, macro_id, caller_of(who)))

    @api.patch("/v1/macros/{macro_id}", response_model=MacroView, responses=openapi.problems(403, 404))
    async def revise_macro(
        macro_id: MacroId, body: MacroChange, who: CurrentIdentity, if_match: MacroIfMatch = None
    ) -> JSONResponse:
        """Revise a macro: a new version (412 when `If-Match` names another); a retired one is refused (422)."""
        caller, version = caller_of(who), expected_version(if_match)
        current = await asyncio.to_thread(intake.macro, who.tenant, macro_id, caller)
        spec = current.spec | body.model_dump(mode="json", exclude_unset=True, exclude_none=True)  # null: as it is
        if spec["groups"] and current.scope == Scope.PERSONAL:
            message = "Value error, only a shared macro is limited to groups"
            raise RequestValidationError([{"loc": ("body", "groups"), "msg": message, "type": "value_error"}])
        macro = await asyncio.to_thread(_refused, intake.revise_macro, who.tenant, macro_id, spec, caller, version)
        return _answer(macro)

    @api.delete("/v1/macros/{macro_id}", status_code=204, responses=openapi.problems(403, 404))
    async def retire_macro(macro_id: MacroId, who: CurrentIdentity, if_match: MacroIfMatch = None) -> Response:
        """Retire a macro: no longer listed or applied; it stays readable, with its versions."""
        version = expected_version(if_match)
        await asyncio.to_thread(_refused, intake.retire_macro, who.tenant, macro_id, caller_of(who), version)
        return Response(status_code=204)

    @api.get("/v1/macros/{macro_id}/versions", response_model=MacroVersions, responses=openapi.problems(404))
    async def macro_versions(macro_id: MacroId, who: CurrentIdentity) -> MacroVersions:
        """Every version of the macro, oldest first: who made it and what it said."""
        events = await asyncio.to_thread(intake.macro_versions, who.tenant, macro_id, caller_of(who))
        return MacroVersions(versions=[_version(event) for event in events])

    async def guard(ticket_id: Annotated[UUID, Path()], who: CurrentIdentity) -> None:
        await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal, "macro")

    on_ticket = APIRouter(
        prefix="/v1/tickets/{ticket_id}/macros/{macro_id}",
        tags=["macros"],
        dependencies=[*staff, Depends(guard)],
        responses=openapi.problems(403, 404),
    )

    @on_ticket.post("", response_model=None, responses=openapi.problems(409, 410))
    async def apply_macro(
        ticket_id: Annotated[UUID, Path()], macro_id: MacroId, who: CurrentIdentity, keyed: IdempotencyKey,
        body: ApplyMacro | None = None, if_match: IfMatch = None,
    ) -> JSONResponse:  # fmt: skip
        """Apply a macro: its reply (or internal note) and its actions, one command on the ticket, one save, led
        by `macro_applied` naming the macro and its version. Keyed (`Idempotency-Key`): a retry applies nothing
        again. Answers with the ticket."""
        language = body.language if body else None
        use = await asyncio.to_thread(
            _refused, desk.prepare, who.tenant, ticket_id, macro_id, caller_of(who), _name(who), language
        )
        comment_id = f"c-{uuid4().hex[:12]}"
        version = expected_version(if_match)
        ticket = await asyncio.to_thread(
            _refused, intake.apply_macro, ticket_id, cause_of(who, keyed), use, comment_id, version
        )
        return ticket_response(intake.view(ticket))

    @on_ticket.post("/preview", response_model=MacroPreview)
    async def preview_macro(
        ticket_id: Annotated[UUID, Path()], macro_id: MacroId, who: CurrentIdentity, body: ApplyMacro | None = None
    ) -> MacroPreview:
        """What applying the macro would do (the rendered reply and the actions), doing nothing."""
        language = body.language if body else None
        use = await asyncio.to_thread(
            _refused, desk.prepare, who.tenant, ticket_id, macro_id, caller_of(who), _name(who), language
        )
        visibility = "public" if use.public else "internal"
        return MacroPreview(
            macro_id=use.macro_id, version=use.version, language=use.language, body=use.text,
            visibility=visibility, actions=use.actions.summary(),
        )  # fmt: skip

    api.include_router(on_ticket)
    return api


def _name(who: Identity) -> str:
    """The agent's name as their sign-in says it, else their id."""
    name = who.principal.claims.get("name")
    return name if isinstance(name, str) and name else who.actor


def _version(event: Any) -> MacroVersion:
    name = type(event).__name__.lower()
    actor = getattr(event, "actor", None) or getattr(event, "owner", "")
    return MacroVersion(
        version=event.originator_version, event=f"macro.{name}", at=event.timestamp, actor=actor,
        spec=getattr(event, "spec", None),
    )  # fmt: skip
