"""Editing a ticket's tags (add some, remove some) and its custom fields, whose form is made from the
tenant's field definitions (GET /v1/fields); the API checks each value and names the one it refuses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from services.web import forms
from services.web.gateway_client import Gateway
from services.web.i18n import gettext_ as _
from services.web.sessions import Session
from services.web.ticket.common import Show, then_back


def router(gateway: Gateway, person: Any, show: Show) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.post("/tickets/{ticket_id}/tags")
    async def retag(
        request: Request,
        ticket_id: str,
        tags: Annotated[str, Form()] = "",
        remove: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI's form default
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        added = [tag.lower() for tag in forms.words(tags)]
        if not added and not remove:
            return await show(request, session, ticket_id, {"tags": _("Add a tag or tick one to remove.")}, 422)
        body = {"tags_add": added, "tags_remove": remove, "reason": _("tags changed in the workspace")}
        changed = gateway.change(session.access_token, ticket_id, body)
        return await then_back(show, request, session, ticket_id, changed, "tags", {"tags": tags})

    @pages.post("/tickets/{ticket_id}/fields")
    async def fields(request: Request, ticket_id: str, session: Session = person) -> Response:
        """Every defined field as typed: a value set (numbers and yes/no as such), an empty one unset."""
        form = await request.form()
        forms.check_form_token(session, str(form.get("csrf_token") or ""))
        definitions = await gateway.fields(session.access_token)
        typed = {f"cf-{key}": str(form.get(f"cf-{key}") or "").strip() for key in definitions}
        values = field_values(definitions, typed)
        unset = [key for key in definitions if not typed[f"cf-{key}"]]
        body = {"custom_fields": values, "custom_fields_unset": unset, "reason": _("fields changed in the workspace")}
        changed = gateway.change(session.access_token, ticket_id, body)
        return await then_back(show, request, session, ticket_id, changed, "fields", typed)

    return pages


def field_values(definitions: dict[str, Any], typed: dict[str, str]) -> dict[str, Any]:
    """The custom fields a form filled in (`cf-<key>`), each as its kind reads it; the empty ones left out."""
    return {key: _value(definitions[key], typed[f"cf-{key}"]) for key in definitions if typed.get(f"cf-{key}")}


def _value(definition: dict[str, Any], typed: str) -> Any:
    """A number as a number, yes/no as true/false; anything else as typed, for the API to judge."""
    kind = definition.get("kind")
    if kind == "boolean" and typed in ("true", "false"):
        return typed == "true"
    if kind == "number":
        for read in (int, float):
            try:
                return read(typed)
            except ValueError:
                continue
    return typed
