"""API keys: how other systems sign in to the desk's API. The admin issues one with a role, sees the
key this once (only its hash is kept), and revokes it for good."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

KEY_FIELDS = ("name", "role", "groups", "reason")
ROLES = ("agent", "supervisor", "admin", "customer")


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def show(
        request: Request,
        session: Session,
        errors: dict[str, str] | None = None,
        typed: dict[str, str] | None = None,
        status_code: int = 200,
        issued: dict[str, Any] | None = None,
    ) -> Response:
        keys = await gateway.api_keys(session.access_token)
        roles = {"agent": _("Agent"), "supervisor": _("Supervisor"), "admin": _("Admin"), "customer": _("Customer")}
        return screen(
            request,
            "admin_api_keys.html",
            session,
            status_code,
            keys=sorted(keys, key=lambda k: (k["revoked_at"] is not None, k["issued_at"])),
            roles=roles,
            issued=issued,
            form_key=forms.form_key(),
            errors=errors or {},
            typed=typed or {},
        )

    @pages.get("/admin/api-keys")
    async def listing(request: Request, session: Session = person) -> Response:
        return await show(request, session)

    @pages.post("/admin/api-keys")
    async def issue(
        request: Request,
        name: Annotated[str, Form()] = "",
        role: Annotated[str, Form()] = "agent",
        groups: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        """Answered with the page itself, not a redirect: the key is in this answer and in no other. The same
        form sent again (a reload) issues no second key, and the first is not shown again."""
        forms.check_form_token(session, csrf_token)
        typed = {"name": name, "role": role, "groups": groups}
        if not name.strip():
            return await show(request, session, {"name": _("Say what the key is for.")}, typed, 422)
        body = {"name": name.strip(), "role": role, "groups": forms.words(groups)}
        try:
            issued = await gateway.issue_api_key(session.access_token, body, form_key or forms.form_key())
        except GatewayError as error:
            return await show(request, session, forms.beside(error, KEY_FIELDS, "name"), typed, 422)
        return await show(request, session, issued=issued, status_code=201 if "key" in issued else 200)

    @pages.post("/admin/api-keys/{key_id}/revoke")
    async def revoke(
        request: Request,
        key_id: str,
        reason: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        if not reason.strip():
            errors = {f"reason-{key_id}": _("Say why the key is revoked.")}
            return await show(request, session, errors, {f"reason-{key_id}": reason}, 422)
        await gateway.revoke_api_key(session.access_token, key_id, reason.strip())
        return RedirectResponse("/admin/api-keys", status_code=303)

    return pages
