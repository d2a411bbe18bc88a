"""The admin's settings screens of the desk's API: custom fields, activity types, webhooks, API keys, erasures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.web.admin import activity_types, api_keys, erasures, fields, webhooks
from services.web.gateway_client import Gateway


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    for screen in (fields, activity_types, webhooks, api_keys, erasures):
        pages.include_router(screen.router(gateway, person))
    return pages
