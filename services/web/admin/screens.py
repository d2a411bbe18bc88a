"""How every admin screen renders: the page with the queues in the header (none for someone signed out)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session


def screen(request: Request, template: str, session: Session | None, status_code: int = 200, **view: Any) -> Response:
    queues = queues_of(session) if session else []
    return render(request, template, session, status_code, queues=queues, **view)
