"""The admin area: only admins enter it (anyone else is refused, every screen alike), its index of
screens, and what its ordered lists share (moving one entry up or down)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway
from services.web.i18n import gettext_ as _
from services.web.sessions import Session
from services.web.signin import SignIn


class NotAnAdminError(Exception):
    """Someone who is not an admin asked for an admin screen or sent one of its forms."""


def admin_only(person: Any) -> Any:
    """A route dependency: the signed-in admin's session; anyone else is refused (403)."""

    async def dependency(session: Session = person) -> Session:
        if "admin" not in session.roles:
            raise NotAnAdminError
        return session

    return Depends(dependency)


@dataclass(frozen=True)
class OrderedList:
    """An admin screen's list whose order matters (routing rules, SLA policies): where it is, how one entry
    is retired, and how the whole order is read and set."""

    page: str  # the screen's path; an entry's anchor on it is `#<anchor>-<id>`
    anchor: str
    entry_path: Callable[[str], str]  # the API path of one entry, to DELETE it
    order_path: str  # the API path that takes the whole order (PUT)
    order_field: str  # the body's field of that order
    current_order: Callable[[Gateway, str], Awaitable[list[str]]]


def mount_ordering(pages: APIRouter, gateway: Gateway, admin: Any, listed: OrderedList) -> None:
    """The retire and move-up/down forms every entry of an ordered list has."""

    @pages.post(listed.page + "/{entry_id}/delete")
    async def retire(entry_id: str, csrf_token: Annotated[str, Form()] = "", session: Session = admin) -> Response:
        forms.check_form_token(session, csrf_token)
        await gateway.delete(session.access_token, listed.entry_path(entry_id))
        return RedirectResponse(listed.page, status_code=303)

    @pages.post(listed.page + "/{entry_id}/move")
    async def move(
        entry_id: str,
        step: Annotated[int, Form()] = 0,
        csrf_token: Annotated[str, Form()] = "",
        session: Session = admin,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        order = await listed.current_order(gateway, session.access_token)
        await gateway.put(session.access_token, listed.order_path, {listed.order_field: moved(order, entry_id, step)})
        return RedirectResponse(f"{listed.page}#{listed.anchor}-{entry_id}", status_code=303)


def moved(ids: Sequence[str], entry_id: str, step: int) -> list[str]:
    """The order `ids` with `entry_id` one place earlier (`step` < 0) or later (> 0); unchanged at either end."""
    order = list(ids)
    if entry_id not in order or step == 0:
        return order
    at = order.index(entry_id)
    to = at + (-1 if step < 0 else 1)
    if 0 <= to < len(order):
        order[at], order[to] = order[to], order[at]
    return order


def refuse_non_admins(app: FastAPI, sign_in: SignIn) -> None:
    @app.exception_handler(NotAnAdminError)
    async def refused(request: Request, error: NotAnAdminError) -> Response:
        session = sign_in.session_of(request)
        reason = _("These screens are for the desk's admins.")
        return screen(request, "refused.html", session, 403, reason=reason, title=_("Admins only"))


def router(admin: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/admin")
    async def index(request: Request, session: Session = admin) -> Response:
        return screen(request, "admin_index.html", session)

    return pages
