"""Search with fields: `status:open priority:P1 group:billing agent:me vpn`.

Fields narrow the list (status, priority, group, agent, requester, tag; `me` is the signed-in
person); the other words are matched against the tickets' words, best first. Both go through the
API, which shows the person only what they may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import DEFAULT_COLUMNS, Queue, list_extras, queues_of, row_of
from services.web.sessions import Session

FIELDS = {
    "status": "status",
    "priority": "priority",
    "group": "group_id",
    "agent": "agent_id",
    "requester": "requester_id",
    "tag": "tag",
}


@dataclass(frozen=True)
class Query:
    filters: dict[str, str] = field(default_factory=dict)
    words: str = ""
    unknown: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str, me: str) -> Query:
        filters: dict[str, str] = {}
        words: list[str] = []
        unknown: list[str] = []
        for token in text.split():
            name, colon, value = token.partition(":")
            if colon and value and name.lower() in FIELDS:
                filters[FIELDS[name.lower()]] = (
                    me if value == "me" else (value.upper() if name == "priority" else value)
                )
            elif colon and value and name.isalpha():
                unknown.append(name)
            else:
                words.append(token)
        return cls(filters, " ".join(words), unknown)

    def admits(self, ticket: dict[str, Any]) -> bool:
        return all(str(ticket.get(key)) == value for key, value in self.filters.items() if key != "tag") and (
            "tag" not in self.filters or self.filters["tag"] in ticket.get("tags", [self.filters["tag"]])
        )


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/search")
    async def search(request: Request, q: str = "", session: Session = person) -> Response:
        query = Query.parse(q, session.subject)
        queue = Queue("search", _("Search"), {})
        error = None
        tickets: list[dict[str, Any]] = []
        if query.unknown:
            error = _("Unknown field: %(name)s. Fields: status, priority, group, agent, requester, tag.") % {
                "name": query.unknown[0]
            }
        elif q.strip():
            try:
                if query.words:
                    found = await gateway.search(session.access_token, query.words)
                    tickets = [t for t in found.get("tickets", []) if query.admits(t)]
                else:
                    tickets = (await gateway.tickets(session.access_token, limit=50, **query.filters))["tickets"]
            except GatewayError as refused:
                error = str(refused)
        return render(
            request,
            "queue.html",
            session,
            queues=queues_of(session),
            queue=queue,
            rows=[row_of(t) for t in tickets],
            next_cursor=None,
            searched=q,
            search_error=error,
            blocks=("rows",),
            **list_extras(DEFAULT_COLUMNS, "", None),
        )

    return pages
