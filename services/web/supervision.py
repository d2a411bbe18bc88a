"""What a supervisor watches: the agents' presence and load, and the backlog, each number a link
to the tickets behind it (a search with the same fields)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.web.gateway_client import Gateway
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session

# The backlog's dimensions: the search field that finds a count's tickets, and the table's title.
DIMENSIONS: dict[str, tuple[str, Callable[[], str]]] = {
    "by_status": ("status", lambda: _("By status")),
    "by_priority": ("priority", lambda: _("By priority")),
    "by_group": ("group", lambda: _("By group")),
    "by_agent": ("agent", lambda: _("By agent")),
}


@dataclass(frozen=True)
class Count:
    label: str
    count: int
    link: str


@dataclass(frozen=True)
class AgentLine:
    agent_id: str
    presence: str
    load: int
    capacity: int
    groups: list[str]
    link: str


def search_link(field: str, value: str) -> str:
    return "/search?" + urlencode({"q": f"{field}:{value}"})


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/board")
    async def board(request: Request, session: Session = person) -> Response:
        if not {"supervisor", "admin"} & set(session.roles):
            return render(request, "not_found.html", session, 404, queues=queues_of(session))
        agents, backlog = await asyncio.gather(
            gateway.agents(session.access_token), gateway.report(session.access_token, "backlog")
        )
        lines = [
            AgentLine(
                a["agent_id"],
                a["presence"],
                int(a["load"]),
                int(a["capacity"]),
                list(a["groups"]),
                search_link("agent", a["agent_id"]),
            )
            for a in agents
        ]
        tables = {
            title(): [
                Count(str(value), int(count), search_link(field, str(value)) if value != "none" else "")
                for value, count in sorted(backlog.get(key, {}).items())
            ]
            for key, (field, title) in DIMENSIONS.items()
        }
        return render(
            request,
            "board.html",
            session,
            queues=queues_of(session),
            agents=lines,
            backlog=tables,
            open_total=backlog.get("open", 0),
        )

    return pages
