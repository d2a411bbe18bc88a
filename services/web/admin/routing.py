"""Groups and agents: the tiers tickets are routed through and the people who take them."""

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

GROUP_FIELDS = ("group_id", "tier", "strategy", "escalates_to", "default")
AGENT_FIELDS = ("agent_id", "groups", "skills", "capacity", "tier")
STRATEGIES = ("least_loaded", "round_robin", "skills_match")


def router(gateway: Gateway, person: Any) -> APIRouter:
    """`person`: the admin's session (area.admin_only)."""
    pages = APIRouter(include_in_schema=False)

    async def show(
        request: Request,
        session: Session,
        errors: dict[str, str] | None = None,
        typed: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        groups, agents = await asyncio.gather(
            gateway.groups(session.access_token), gateway.agents(session.access_token)
        )
        return screen(
            request,
            "admin_routing.html",
            session,
            status_code,
            groups=groups["groups"],
            default_group=groups.get("default_group"),
            agents=agents,
            strategies=STRATEGIES,
            errors=errors or {},
            typed=typed or {},
        )

    @pages.get("/admin/routing")
    async def routing(request: Request, session: Session = person) -> Response:
        return await show(request, session)

    @pages.post("/admin/routing/groups")
    async def put_group(
        request: Request,
        group_id: Annotated[str, Form()] = "",
        tier: Annotated[int, Form()] = 1,
        strategy: Annotated[str, Form()] = "least_loaded",
        escalates_to: Annotated[str, Form()] = "",
        default: Annotated[bool, Form()] = False,
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        typed = {"group_id": group_id, "escalates_to": escalates_to}
        if not group_id.strip():
            return await show(request, session, {"group_id": _("Name the group.")}, typed, 422)
        body = {"tier": tier, "strategy": strategy, "escalates_to": escalates_to.strip() or None, "default": default}
        try:
            await gateway.put(session.access_token, f"/v1/routing/groups/{group_id.strip()}", body)
        except GatewayError as error:
            return await show(request, session, forms.beside(error, GROUP_FIELDS, "group_id"), typed, 422)
        return RedirectResponse("/admin/routing", status_code=303)

    @pages.post("/admin/routing/agents")
    async def put_agent(
        request: Request,
        agent_id: Annotated[str, Form()] = "",
        groups: Annotated[str, Form()] = "",
        skills: Annotated[str, Form()] = "",
        capacity: Annotated[int, Form()] = 5,
        tier: Annotated[int, Form()] = 1,
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        typed = {"agent_id": agent_id, "groups": groups, "skills": skills}
        if not agent_id.strip():
            return await show(request, session, {"agent_id": _("Name the agent.")}, typed, 422)
        body = {"groups": forms.words(groups), "skills": forms.words(skills), "capacity": capacity, "tier": tier}
        try:
            await gateway.put(session.access_token, f"/v1/routing/agents/{agent_id.strip()}", body)
        except GatewayError as error:
            return await show(request, session, forms.beside(error, AGENT_FIELDS, "agent_id"), typed, 422)
        return RedirectResponse("/admin/routing", status_code=303)

    return pages
