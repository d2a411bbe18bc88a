"""The ticket page's action routes, one module per concern, mounted under the ticket page's router."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.web.gateway_client import Gateway
from services.web.ticket import classification, escalation, macros, relations, time
from services.web.ticket.common import Show


def router(gateway: Gateway, person: Any, show: Show) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    for concern in (relations, classification, escalation, macros, time):
        pages.include_router(concern.router(gateway, person, show))
    return pages
