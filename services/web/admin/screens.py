"""What every settings screen shares: the queues in the header and the settings' own navigation."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session


def screen(request: Request, template: str, session: Session, status_code: int = 200, **view: Any) -> Response:
    return render(request, template, session, status_code, queues=queues_of(session), **view)
