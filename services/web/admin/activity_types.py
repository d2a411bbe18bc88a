"""The activity types time entries name (support, travel...), each billable by default or not: defined,
changed and retired by the admin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

TYPE_FIELDS = ("key", "label", "billable")


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def show(
        request: Request,
        session: Session,
        errors: dict[str, str] | None = None,
        typed: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response:
        types = await gateway.activity_types(session.access_token)
        view = {"types": types, "errors": errors or {}, "typed": typed or {"billable": True}}
        return screen(request, "admin_activity_types.html", session, status_code, **view)

    @pages.get("/admin/activity-types")
    async def listing(request: Request, session: Session = person) -> Response:
        return await show(request, session)

    @pages.post("/admin/activity-types")
    async def define(
        request: Request,
        key: Annotated[str, Form()] = "",
        label: Annotated[str, Form()] = "",
        billable: Annotated[bool, Form()] = False,
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        """Define an activity type, or change one's label and billable default (same key)."""
        forms.check_form_token(session, csrf_token)
        typed = {"key": key, "label": label, "billable": billable}
        errors = {}
        if not key.strip():
            errors["key"] = _("Give the activity a key (small letters, digits, - and _).")
        if not label.strip():
            errors["label"] = _("Give the activity a label.")
        if errors:
            return await show(request, session, errors, typed, 422)
        body = {"label": label.strip(), "billable": billable}
        try:
            await gateway.put(session.access_token, f"/v1/time-activity-types/{key.strip()}", body)
        except GatewayError as error:
            return await show(request, session, forms.beside(error, TYPE_FIELDS, "key"), typed, 422)
        return RedirectResponse("/admin/activity-types", status_code=303)

    @pages.post("/admin/activity-types/{key}/delete")
    async def retire(key: str, csrf_token: Annotated[str, Form()] = "", session: Session = person) -> Response:
        """Retire an activity type: entries logged with it keep it, new ones cannot name it."""
        forms.check_form_token(session, csrf_token)
        await gateway.delete(session.access_token, f"/v1/time-activity-types/{key}")
        return RedirectResponse("/admin/activity-types", status_code=303)

    return pages
