"""The macros' screens: an agent's "My macros" (`/macros`) and the shared ones (`/macros/shared`, supervisors
and admins), each a list with a form to make one; a macro's editor (`/macros/{id}`) with a body per
language, who sees the reply, and what else it sets; retiring it. Forms post, then redirect; a refused
form comes back with the API's message beside the field it names."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session

LANGUAGES = ("en", "ru")
STATUSES = ("open", "pending", "resolved", "closed")
PRIORITIES = ("P1", "P2", "P3", "P4")
FIELDS = (
    "title", *LANGUAGES, "visibility", "groups", "status", "status_reason", "priority", "tags_add", "tags_remove",
    "group_id", "macro_id",
)  # fmt: skip


def _manages(session: Session) -> bool:
    return bool({"supervisor", "admin"} & set(session.roles))


def _spec(typed: dict[str, str], shared: bool) -> dict[str, Any]:
    """The API's macro from the form's fields (empty ones left out: unchanged)."""
    actions: dict[str, Any] = {
        "status": typed.get("status") or None,
        "status_reason": typed.get("status_reason", "").strip() or None,
        "priority": typed.get("priority") or None,
        "tags_add": forms.words(typed.get("tags_add", "")),
        "tags_remove": forms.words(typed.get("tags_remove", "")),
        "group_id": typed.get("group_id", "").strip() or None,
    }
    spec: dict[str, Any] = {
        "title": typed.get("title", ""),
        "body": {language: typed[language] for language in LANGUAGES if typed.get(language, "").strip()},
        "visibility": typed.get("visibility") or "public",
        "actions": actions,
    }
    return spec | ({"groups": forms.words(typed.get("groups", ""))} if shared else {})


def _typed(macro: dict[str, Any]) -> dict[str, str]:
    """A macro as its editor's fields hold it."""
    actions = macro.get("actions") or {}
    return {
        "title": macro["title"], **{language: macro["body"].get(language, "") for language in LANGUAGES},
        "visibility": macro["visibility"], "groups": ", ".join(macro.get("groups") or []),
        "status": actions.get("status") or "", "status_reason": actions.get("status_reason") or "",
        "priority": actions.get("priority") or "", "tags_add": ", ".join(actions.get("tags_add") or []),
        "tags_remove": ", ".join(actions.get("tags_remove") or []), "group_id": actions.get("group_id") or "",
    }  # fmt: skip


def _checked(typed: dict[str, str]) -> dict[str, str]:
    """What the form misses before asking the API."""
    errors = {}
    if not typed.get("title", "").strip():
        errors["title"] = _("Give the macro a title.")
    if not any(typed.get(language, "").strip() for language in LANGUAGES):
        errors["en"] = _("Write the reply in at least one language.")
    return errors


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def listing(
        request: Request, session: Session, shared: bool, errors: dict[str, str] | None = None,
        typed: dict[str, str] | None = None, status_code: int = 200,
    ) -> Response:  # fmt: skip
        if shared and not _manages(session):
            raise GatewayError(403, {"detail": _("Shared macros are managed by supervisors and admins.")})
        found = await gateway.macros(session.access_token)
        scope = "shared" if shared else "personal"
        mine = [m for m in found if m["scope"] == scope and (shared or m["owner"] == session.subject)]
        return render(
            request, "macro_library.html", session, status_code, queues=queues_of(session), macros=mine,
            shared=shared, manages=_manages(session), errors=errors or {}, typed=typed or {},
            languages=LANGUAGES, statuses=STATUSES, priorities=PRIORITIES, form_key=forms.form_key(),
        )  # fmt: skip

    async def editor(
        request: Request, session: Session, macro_id: str, errors: dict[str, str] | None = None,
        typed: dict[str, str] | None = None, status_code: int = 200,
    ) -> Response:  # fmt: skip
        macro = await gateway.macro(session.access_token, macro_id)
        return render(
            request, "macro_editor.html", session, status_code, queues=queues_of(session), macro=macro,
            errors=errors or {}, typed=typed or _typed(macro), shared=macro["scope"] == "shared",
            languages=LANGUAGES, statuses=STATUSES, priorities=PRIORITIES,
        )  # fmt: skip

    @pages.get("/macros")
    async def my_macros(request: Request, session: Session = person) -> Response:
        return await listing(request, session, shared=False)

    @pages.get("/macros/shared")
    async def shared_macros(request: Request, session: Session = person) -> Response:
        return await listing(request, session, shared=True)

    @pages.post("/macros")
    async def make(request: Request, session: Session = person) -> Response:
        form = await request.form()
        forms.check_form_token(session, str(form.get("csrf_token", "")))
        typed = {name: str(form.get(name, "")) for name in FIELDS}
        shared = form.get("scope") == "shared"
        if errors := _checked(typed):
            return await listing(request, session, shared, errors, typed, 422)
        body = _spec(typed, shared) | {"scope": "shared" if shared else "personal"}
        try:
            made = await gateway.make_macro(session.access_token, body, str(form.get("form_key") or forms.form_key()))
        except GatewayError as error:
            return await listing(request, session, shared, forms.beside(error, FIELDS, "title"), typed, 422)
        return RedirectResponse(f"/macros/{made['id']}", status_code=303)

    @pages.get("/macros/{macro_id}")
    async def edit(request: Request, macro_id: str, session: Session = person) -> Response:
        return await editor(request, session, macro_id)

    @pages.post("/macros/{macro_id}")
    async def revise(request: Request, macro_id: str, session: Session = person) -> Response:
        form = await request.form()
        forms.check_form_token(session, str(form.get("csrf_token", "")))
        typed = {name: str(form.get(name, "")) for name in FIELDS}
        if errors := _checked(typed):
            return await editor(request, session, macro_id, errors, typed, 422)
        version = int(str(form.get("version") or 0)) or None
        body = _spec(typed, form.get("scope") == "shared")
        try:
            await gateway.revise_macro(session.access_token, macro_id, body, version)
        except GatewayError as error:
            message = _("Someone changed this macro meanwhile: reload it to see their version.")
            errors = {"title": message} if error.status == 412 else forms.beside(error, FIELDS, "title")
            return await editor(request, session, macro_id, errors, typed, 422)
        return RedirectResponse(f"/macros/{macro_id}", status_code=303)

    @pages.post("/macros/{macro_id}/retire")
    async def retire(
        request: Request, macro_id: str, csrf_token: Annotated[str, Form()] = "", session: Session = person
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        macro = await gateway.macro(session.access_token, macro_id)
        await gateway.retire_macro(session.access_token, macro_id)
        return RedirectResponse("/macros/shared" if macro["scope"] == "shared" else "/macros", status_code=303)

    return pages
