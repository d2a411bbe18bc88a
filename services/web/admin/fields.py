"""Custom ticket fields: the extra facts every ticket of the tenant carries (a plan, a contract number),
defined, changed and retired by the admin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

FIELD_FIELDS = ("key", "label", "kind", "choices", "required")
KINDS = ("text", "number", "boolean", "date", "choice")


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def show(
        request: Request,
        session: Session,
        errors: dict[str, str] | None = None,
        typed: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response:
        fields = await gateway.fields(session.access_token)
        kind_names = {"text": _("Text"), "number": _("Number"), "boolean": _("Yes or no"), "date": _("Date"),
                      "choice": _("One of a list")}  # fmt: skip
        return screen(
            request,
            "admin_fields.html",
            session,
            status_code,
            fields=fields,
            kinds=kind_names,
            errors=errors or {},
            typed=typed or {},
        )

    @pages.get("/admin/fields")
    async def listing(request: Request, edit: str = "", session: Session = person) -> Response:
        """The fields; with `edit`, the form holds that field to change it."""
        if edit:
            spec = (await gateway.fields(session.access_token)).get(edit)
            if spec is not None:
                typed = spec | {"key": edit, "choices": "\n".join(spec["choices"]), "editing": True}
                return await show(request, session, typed=typed)
        return await show(request, session)

    @pages.post("/admin/fields")
    async def define(
        request: Request,
        key: Annotated[str, Form()] = "",
        label: Annotated[str, Form()] = "",
        kind: Annotated[str, Form()] = "text",
        choices: Annotated[str, Form()] = "",
        required: Annotated[bool, Form()] = False,
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        typed = {"key": key, "label": label, "kind": kind, "choices": choices, "required": required}
        listed = [line.strip() for line in choices.splitlines() if line.strip()]
        errors = _missing(key, label, kind, listed)
        if errors:
            return await show(request, session, errors, typed, 422)
        body = {
            "label": label.strip(),
            "kind": kind,
            "required": required,
            "choices": listed if kind == "choice" else [],
        }
        try:
            await gateway.put(session.access_token, f"/v1/fields/{key.strip()}", body)
        except GatewayError as error:
            return await show(request, session, forms.beside(error, FIELD_FIELDS, "key"), typed, 422)
        return RedirectResponse("/admin/fields", status_code=303)

    @pages.post("/admin/fields/{key}/delete")
    async def retire(key: str, csrf_token: Annotated[str, Form()] = "", session: Session = person) -> Response:
        forms.check_form_token(session, csrf_token)
        await gateway.delete(session.access_token, f"/v1/fields/{key}")
        return RedirectResponse("/admin/fields", status_code=303)

    return pages


def _missing(key: str, label: str, kind: str, choices: list[str]) -> dict[str, str]:
    """What the form lacks, said beside each field before the API is asked."""
    errors = {}
    if not key.strip():
        errors["key"] = _("Give the field a key (small letters, digits and _).")
    if not label.strip():
        errors["label"] = _("Give the field a label.")
    if kind == "choice" and not choices:
        errors["choices"] = _("List the choices, one a line.")
    return errors
