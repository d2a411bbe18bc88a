"""The knowledge base's categories: a tree, each a slug with its English and Russian names, a parent
and a position among its siblings. Admins and supervisors change them (the API refuses anyone else);
a parent that would make a loop is refused beside the parent field."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms, i18n
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.kb.common import staff_only, tree
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session

FIELDS = ("slug", "name_en", "name_ru", "parent", "position", "names")


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    staff = staff_only(person)

    async def show(
        request: Request,
        session: Session,
        typed: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        found = tree(await gateway.kb_categories(session.access_token), i18n.current())
        return render(
            request,
            "kb_categories.html",
            session,
            status_code,
            queues=queues_of(session),
            categories=found,
            typed=typed or {},
            errors=errors or {},
            may_change=bool({"admin", "supervisor"} & set(session.roles)),
        )

    @pages.get("/kb/categories")
    async def categories(request: Request, edit: str = "", session: Session = staff) -> Response:
        typed: dict[str, str] = {}
        if edit:
            chosen = next((c for c in await gateway.kb_categories(session.access_token) if c["slug"] == edit), None)
            if chosen is not None:
                names = chosen.get("names") or {}
                typed = {
                    "slug": chosen["slug"],
                    "name_en": names.get("en", ""),
                    "name_ru": names.get("ru", ""),
                    "parent": chosen.get("parent") or "",
                    "position": str(chosen.get("position") or 0),
                }
        return await show(request, session, typed)

    @pages.post("/kb/categories")
    async def put(
        request: Request,
        slug: Annotated[str, Form()] = "",
        name_en: Annotated[str, Form()] = "",
        name_ru: Annotated[str, Form()] = "",
        parent: Annotated[str, Form()] = "",
        position: Annotated[str, Form()] = "0",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = staff,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        typed = {"slug": slug, "name_en": name_en, "name_ru": name_ru, "parent": parent, "position": position}
        errors: dict[str, str] = {}
        if not slug.strip():
            errors["slug"] = _("Name the category's slug.")
        if not (name_en.strip() or name_ru.strip()):
            errors["name_en"] = _("Give the category a name.")
        if not position.strip().lstrip("-").isdigit():
            errors["position"] = _("A whole number.")
        if errors:
            return await show(request, session, typed, errors, 422)
        names = {k: v.strip() for k, v in (("en", name_en), ("ru", name_ru)) if v.strip()}
        body = {"names": names, "parent": parent.strip() or None, "position": int(position)}
        try:
            await gateway.put(session.access_token, f"/v1/kb/categories/{slug.strip()}", body)
        except GatewayError as error:
            placed = forms.beside(error, FIELDS, "slug")
            if "names" in placed:
                placed["name_en"] = placed.pop("names")
            return await show(request, session, typed, placed, 422)
        return RedirectResponse("/kb/categories", status_code=303)

    @pages.post("/kb/categories/{slug}/delete")
    async def delete(request: Request, slug: str, csrf_token: Annotated[str, Form()] = "",
                     session: Session = staff) -> Response:  # fmt: skip
        forms.check_form_token(session, csrf_token)
        try:
            await gateway.delete(session.access_token, f"/v1/kb/categories/{slug}")
        except GatewayError as error:
            return await show(request, session, {}, {"delete": f"{slug}: {error}"}, 422)
        return RedirectResponse("/kb/categories", status_code=303)

    return pages
