"""Webhooks: where the desk posts the tenant's events, each signed with a secret shown once, and how
each webhook's recent deliveries went."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

WEBHOOK_FIELDS = ("url", "types")
RECENT = 10  # deliveries shown per webhook


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def show(
        request: Request,
        session: Session,
        errors: dict[str, str] | None = None,
        typed: dict[str, str] | None = None,
        status_code: int = 200,
        made: dict[str, Any] | None = None,
    ) -> Response:
        found = await gateway.webhooks(session.access_token)
        hooks = found["webhooks"]
        logs = await asyncio.gather(*(gateway.deliveries(session.access_token, h["id"], RECENT) for h in hooks))
        return screen(
            request,
            "admin_webhooks.html",
            session,
            status_code,
            webhooks=[hook | {"deliveries": log} for hook, log in zip(hooks, logs, strict=True)],
            allow_private=found["allow_private_network"],
            statuses=_statuses(),
            made=made,
            form_key=forms.form_key(),
            errors=errors or {},
            typed=typed or {},
        )

    @pages.get("/admin/webhooks")
    async def listing(request: Request, session: Session = person) -> Response:
        return await show(request, session)

    @pages.post("/admin/webhooks")
    async def subscribe(
        request: Request,
        url: Annotated[str, Form()] = "",
        types: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        """Answered with the page itself, not a redirect: the secret is in this answer and in no other."""
        forms.check_form_token(session, csrf_token)
        typed = {"url": url, "types": types}
        body = {"url": url.strip(), "types": forms.words(types)}
        try:
            made = await gateway.subscribe(session.access_token, body, form_key or forms.form_key())
        except GatewayError as error:
            return await show(request, session, forms.beside(error, WEBHOOK_FIELDS, "url"), typed, 422)
        return await show(request, session, made=made, status_code=201)

    @pages.post("/admin/webhooks/private-network")
    async def private_targets(
        allow: Annotated[bool, Form()] = False, csrf_token: Annotated[str, Form()] = "", session: Session = person
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        await gateway.put(
            session.access_token, "/v1/webhooks/settings/private-network", {"allow_private_network": allow}
        )
        return RedirectResponse("/admin/webhooks", status_code=303)

    @pages.post("/admin/webhooks/{webhook_id}/delete")
    async def unsubscribe(
        webhook_id: str, csrf_token: Annotated[str, Form()] = "", session: Session = person
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        await gateway.delete(session.access_token, f"/v1/webhooks/{webhook_id}")
        return RedirectResponse("/admin/webhooks", status_code=303)

    return pages


def _statuses() -> dict[str, str]:
    """A delivery's status in the page's language."""
    return {"pending": _("pending"), "delivered": _("delivered"), "failed": _("failed"), "cancelled": _("cancelled")}
