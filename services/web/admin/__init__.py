"""The admin's screens: each one a page of the setting it changes, every change an API call that
records events with the admin as actor."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.web.admin import area, calendars, policies, routing, rules, settings, triggers, what_if
from services.web.gateway_client import Gateway
from services.web.signin import SignIn


def mount(app: FastAPI, sign_in: SignIn, gateway: Gateway, person: Any) -> None:
    """The admin area's screens, each refused to anyone but an admin."""
    admin = area.admin_only(person)
    area.refuse_non_admins(app, sign_in)
    app.include_router(area.router(admin))
    app.include_router(routing.router(gateway, admin))
    app.include_router(rules.router(gateway, admin))
    app.include_router(calendars.router(gateway, admin))
    app.include_router(policies.router(gateway, admin))
    app.include_router(settings.router(gateway, admin))
    app.include_router(what_if.router(gateway, admin))
    app.include_router(triggers.router(gateway, admin))
