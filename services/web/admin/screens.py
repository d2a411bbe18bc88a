"""What every admin screen of the settings shares: only an admin sees one (anyone else is told there
is no such page), with the queues in the header and the settings' own navigation."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session


def is_admin(session: Session) -> bool:
    return "admin" in session.roles


def not_here(request: Request, session: Session) -> Response:
    """The answer to a non-admin: the page does not exist for them (the API would refuse them anyway)."""
    return render(request, "not_found.html", session, 404, queues=queues_of(session))


def screen(request: Request, template: str, session: Session, status_code: int = 200, **view: Any) -> Response:
    return render(request, template, session, status_code, queues=queues_of(session), **view)
