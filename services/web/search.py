"""Search with fields: `status:open priority:P1 group:billing agent:me vpn`.

Fields narrow the list (status, priority, group, agent, requester, tag, channel; `me` is the
signed-in person; `status:new,open,pending` is any of them; `opened:2026-11-01..2026-11-30` or
`opened:2026-11-23` the days, UTC, a ticket was opened, as the reports count them); the other
words are matched against the tickets' words, best first. Both go through the API, which shows
the person only what they may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
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
    "channel": "channel",
    "opened": "opened",
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
        plain = {key: value for key, value in self.filters.items() if key not in ("tag", "opened")}
        start, end = opened_between(self.filters.get("opened"))
        day = str(ticket.get("created_at") or "")[:10]
        return (
            all(str(ticket.get(key)) in value.split(",") for key, value in plain.items())
            and ("tag" not in self.filters or self.filters["tag"] in ticket.get("tags", [self.filters["tag"]]))
            and (start is None or start <= day < (end or start))
        )

    def listing(self) -> dict[str, Any]:
        """The fields as the ticket list's parameters (GET /v1/tickets)."""
        asked: dict[str, Any] = {key: value for key, value in self.filters.items() if key != "opened"}
        if "," in asked.get("status", ""):
            asked["status"] = asked["status"].split(",")
        start, end = opened_between(self.filters.get("opened"))
        if start is not None:
            asked |= {"created_from": f"{start}T00:00:00+00:00", "created_to": f"{end}T00:00:00+00:00"}
        return asked


def opened_between(days: str | None) -> tuple[str | None, str | None]:
    """`2026-11-01..2026-11-30` (or one day) as the first day and the day after the last, ISO; Nones
    when not given, and the day given for both when not a day (the list then finds nothing)."""
    if not days:
        return None, None
    first, _, last = days.partition("..")
    try:
        after = date.fromisoformat(last or first) + timedelta(days=1)
        return date.fromisoformat(first).isoformat(), after.isoformat()
    except ValueError:
        return days, days


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/search")
    async def search(request: Request, q: str = "", session: Session = person) -> Response:
        query = Query.parse(q, session.subject)
        queue = Queue("search", _("Search"), {})
        error = None
        tickets: list[dict[str, Any]] = []
        if query.unknown:
            error = _(
                "Unknown field: %(name)s. Fields: status, priority, group, agent, requester, tag, channel, opened."
            ) % {"name": query.unknown[0]}
        elif q.strip():
            try:
                if query.words:
                    found = await gateway.search(session.access_token, query.words)
                    tickets = [t for t in found.get("tickets", []) if query.admits(t)]
                else:
                    tickets = (await gateway.tickets(session.access_token, limit=50, **query.listing()))["tickets"]
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
