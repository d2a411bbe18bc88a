"""The erasure register: every person whose data the desk erased (who asked, when, why, how many of
their tickets), and erasing one more, after a confirmation that says whose data goes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

ERASURE_FIELDS = ("requester_id", "reason")
TITLES_SHOWN = 10  # of the person's tickets, on the confirmation


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    async def show(
        request: Request,
        session: Session,
        errors: dict[str, str] | None = None,
        typed: dict[str, str] | None = None,
        status_code: int = 200,
        confirm: dict[str, Any] | None = None,
    ) -> Response:
        erasures = await gateway.erasures(session.access_token)
        return screen(
            request,
            "admin_erasures.html",
            session,
            status_code,
            erasures=sorted(erasures, key=lambda e: str(e["recorded_at"]), reverse=True),
            confirm=confirm,
            form_key=forms.form_key(),
            errors=errors or {},
            typed=typed or {},
        )

    @pages.get("/admin/erasures")
    async def register(request: Request, session: Session = person) -> Response:
        return await show(request, session)

    @pages.post("/admin/erasures/review")
    async def review(
        request: Request,
        requester_id: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        """The first step: what is held about the person, and a button that erases it for good."""
        forms.check_form_token(session, csrf_token)
        typed = {"requester_id": requester_id.strip(), "reason": reason.strip()}
        errors = _missing(typed["requester_id"], typed["reason"])
        if errors:
            return await show(request, session, errors, typed, 422)
        held = await gateway.person(session.access_token, typed["requester_id"])
        if held is None:
            errors = {"requester_id": _("Nothing is held about this person.")}
            return await show(request, session, errors, typed, 422)
        return await show(request, session, typed=typed, confirm=_confirmation(held))

    @pages.post("/admin/erasures")
    async def erase(
        request: Request,
        requester_id: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        form_key: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        typed = {"requester_id": requester_id.strip(), "reason": reason.strip()}
        errors = _missing(typed["requester_id"], typed["reason"])
        if errors:
            return await show(request, session, errors, typed, 422)
        try:
            await gateway.erase(session.access_token, typed["requester_id"], typed["reason"], form_key)
        except GatewayError as error:
            return await show(request, session, forms.beside(error, ERASURE_FIELDS, "requester_id"), typed, 422)
        return RedirectResponse("/admin/erasures", status_code=303)

    return pages


def _missing(requester_id: str, reason: str) -> dict[str, str]:
    errors = {}
    if not requester_id:
        errors["requester_id"] = _("Name the person (their requester id on tickets).")
    if not reason:
        errors["reason"] = _("Say why (e.g. the request's reference): the register keeps it.")
    return errors


def _confirmation(held: dict[str, Any]) -> dict[str, Any]:
    """What the confirmation shows of the person's export: who they are and what of theirs goes."""
    profile = held.get("profile") or {}
    tickets = held.get("tickets") or []
    return {
        "requester_id": held["requester_id"],
        "name": profile.get("name"),
        "address": profile.get("address"),
        "erased": bool(held.get("erased")),
        "tickets": len(tickets),
        "titles": [str(t.get("title") or "") for t in tickets[:TITLES_SHOWN]],
    }
