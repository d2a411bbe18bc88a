"""A customer's page for the staff: their profile (every address, organisation, notes) and their
tickets on every channel, with those of whoever was merged with them. The ticket page's requester
links here. An agent's id that names no customer shows the agent as routing knows them: their
groups, skills, tier, capacity, presence and load."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session


def channel_names() -> dict[str, str]:
    return {"email": _("E-mail"), "telegram": _("Telegram"), "chat": _("Chat")}


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    addresses: list[tuple[str, str]]  # (channel's name, address)
    language: str | None
    time_zone: str | None
    organisation: str | None
    notes: str | None
    merged_into: str | None
    erased: bool

    @classmethod
    def of(cls, person: dict[str, Any], organisation: str | None) -> Profile:
        names = channel_names()
        return cls(
            person["id"], person["name"] or _("(no name)"),
            [(names.get(a["channel"], a["channel"]), a["address"]) for a in person["addresses"]],
            person["language"], person["time_zone"], organisation, person["notes"], person["merged_into"],
            person["erased"],
        )  # fmt: skip


@dataclass(frozen=True)
class AgentProfile:
    id: str
    groups: list[str]
    skills: list[str]
    tier: int
    capacity: int
    presence: str
    load: int

    @classmethod
    def of(cls, agent: dict[str, Any]) -> AgentProfile:
        fields = ("id", "groups", "skills", "tier", "capacity", "presence", "load")
        return cls(**{name: agent[name] for name in fields})


def presences() -> dict[str, str]:
    return {"online": _("Online"), "away": _("Away"), "offline": _("Offline")}


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/people/{person_id}")
    async def profile(request: Request, person_id: str, session: Session = person) -> Response:
        if not session.is_staff:
            return render(request, "not_found.html", session, 404, queues=queues_of(session))
        token = session.access_token
        try:
            found, tickets = await asyncio.gather(
                gateway.profile(token, person_id), gateway.person_tickets(token, person_id)
            )
        except GatewayError as error:
            if error.status != 404:
                raise
            return await agent(request, person_id, session)
        organisation = found["organisation_id"]
        if organisation is not None:
            with suppress(GatewayError):  # an organisation gone since: its id is what the page can show
                organisation = (await gateway.organisation(token, organisation))["name"]
        return render(
            request, "person.html", session, queues=queues_of(session),
            profile=Profile.of(found, organisation), tickets=tickets, channels=channel_names(),
        )  # fmt: skip

    async def agent(request: Request, agent_id: str, session: Session) -> Response:
        """The agent `agent_id` names, or the page that is not there."""
        try:
            found = await gateway.agent(session.access_token, agent_id)
        except GatewayError as error:
            if error.status not in (404, 503):
                raise
            return render(request, "not_found.html", session, 404, queues=queues_of(session))
        return render(
            request, "agent.html", session, queues=queues_of(session), agent=AgentProfile.of(found),
            presences=presences(),
        )  # fmt: skip

    return pages
