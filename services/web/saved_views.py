"""Saved views in the workspace: a view's list (its columns, in its order), saving the filters at hand as
a view, personal or shared with the team, and deleting one.

Filters are written as in search (`status:new,open priority:P1 group:billing agent:me tag:vpn words`);
the API keeps the view (`PUT /v1/views/{id}`, `DELETE …`), its rules (who may change a shared view)
and the count of its tickets. A refusal is shown beside the field the API names.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import DEFAULT_COLUMNS, Queue, queues_of, show_list
from services.web.sessions import Session

LISTED = {"status": "status", "priority": "priority", "group": "group_id"}  # several values: a,b
SINGLE = {"agent": "agent_id", "tag": "tag"}
FORM_FIELDS = ("name", "filters", "columns", "order", "shared")


class FilterTextError(ValueError):
    """Filter text naming a field a view does not keep."""


def filters_of(text: str) -> dict[str, Any]:
    """A view's filters from search-like text (`agent:me` stays `me`: whoever looks at the view)."""
    filters: dict[str, Any] = {}
    words: list[str] = []
    for token in text.split():
        name, colon, value = token.partition(":")
        name = name.lower()
        if colon and value and name in LISTED:
            values = [v for v in value.split(",") if v]
            filters[LISTED[name]] = [v.upper() for v in values] if name == "priority" else values
        elif colon and value and name in SINGLE:
            filters[SINGLE[name]] = value
        elif colon and value and name.isalpha():
            raise FilterTextError(
                _("Unknown field: %(name)s. A view keeps status, priority, group, agent, tag and words.")
                % {"name": name}
            )
        else:
            words.append(token)
    return filters | ({"words": " ".join(words)} if words else {})


def text_of(filters: dict[str, Any]) -> str:
    """The filters as one writes them (to change a view's)."""
    parts = [f"{name}:{','.join(filters[key])}" for name, key in LISTED.items() if filters.get(key)]
    parts += [f"{name}:{filters[key]}" for name, key in SINGLE.items() if filters.get(key)]
    return " ".join(parts + ([filters["words"]] if filters.get("words") else []))


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/views/{view_id}")
    async def view_page(
        request: Request, view_id: str, session: Session = person, cursor: str | None = None, order: str | None = None
    ) -> Response:
        try:
            view = await gateway.saved_view(session.access_token, view_id)
        except GatewayError as missing:
            if missing.status in (403, 404, 422):
                return render(request, "not_found.html", session, 404, queues=queues_of(session))
            raise
        chosen = Queue(f"view-{view_id}", view["name"], {"view": view_id}, None, view["order"], tuple(view["columns"]))
        form = {"id": view_id, "name": view["name"], "filters": text_of(view["filters"]), "columns": view["columns"],
                "order": view["order"], "shared": view["shared"]}  # fmt: skip
        return await show_list(request, gateway, session, chosen, order=order, cursor=cursor, save_form=form)

    @pages.post("/views")
    async def save_view(
        request: Request,
        name: Annotated[str, Form()] = "",
        filters: Annotated[str, Form()] = "",
        columns: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI's form default
        order: Annotated[str, Form()] = "-created_at",
        shared: Annotated[str, Form()] = "",
        view_id: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        """Save the filters as a new view, or (`view_id`: the view shown) change that view."""
        forms.check_form_token(session, csrf_token)
        form = {
            "id": view_id,
            "name": name,
            "filters": filters,
            "columns": columns,
            "order": order,
            "shared": bool(shared),
        }
        errors: dict[str, str] = {}
        try:
            body = {"name": name, "filters": filters_of(filters), "columns": columns or list(DEFAULT_COLUMNS),
                    "order": order, "shared": bool(shared)}  # fmt: skip
            view_id = str(uuid.UUID(view_id)) if view_id else str(uuid.uuid4())
            await gateway.save_view(session.access_token, view_id, body)
        except ValueError as unknown:  # FilterTextError, or a view id that is none
            errors = {"filters": str(unknown)}
        except GatewayError as refused:
            errors = forms.beside(refused, FORM_FIELDS, "name")
        if errors:
            everything = Queue("all", _("All tickets"), {"queue": "all"})
            return await show_list(
                request, gateway, session, everything, order=None, cursor=None, status_code=422,
                save_errors=errors, save_form=form,
            )  # fmt: skip
        return RedirectResponse(f"/views/{view_id}", status_code=303)

    @pages.post("/views/{view_id}/delete")
    async def delete_view(view_id: str, csrf_token: Annotated[str, Form()] = "", session: Session = person) -> Response:
        forms.check_form_token(session, csrf_token)
        await gateway.delete_view(session.access_token, view_id)
        return RedirectResponse("/queues/mine", status_code=303)

    return pages
