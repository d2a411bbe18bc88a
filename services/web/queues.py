"""The queues an agent works from: theirs, their groups', the unassigned, waiting on the customer,
breaching soon (nearest SLA due first) and all they may see, each with its count; a customer's own
requests.

Each queue is the API's named queue (`GET /v1/tickets?queue=…`): the API keeps the definitions, so a
count (`GET /v1/tickets/counts`) is the number of rows its list holds, and applies who may see what
(services/intake/tickets/access.py): a queue never shows a ticket the person may not open. Saved views
(saved_views.py) are listed beside the queues with their counts, from the same call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import URL
from starlette.responses import Response

from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.sessions import Session


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    filters: dict[str, str]
    count: int | None = None
    order: str | None = None
    columns: tuple[str, ...] = ()


DEFAULT_COLUMNS = ("number", "title", "status", "priority", "group_id", "agent_id", "created_at")
DUE_COLUMNS = ("number", "title", "status", "priority", "group_id", "agent_id", "sla_due_at")


def queues_of(session: Session) -> list[Queue]:
    if not session.is_staff:  # a customer's own requests (the API shows them nothing else)
        return [Queue("mine", _("My requests"), {"requester_id": session.subject})]
    return [
        Queue("mine", _("My tickets"), {"queue": "mine"}),
        Queue("my_groups", _("My groups"), {"queue": "my_groups"}),
        Queue("unassigned", _("Unassigned"), {"queue": "unassigned"}),
        Queue("waiting", _("Waiting on the customer"), {"queue": "waiting"}),
        Queue("breaching_soon", _("Breaching soon"), {"queue": "breaching_soon"}, None, "sla_due_at", DUE_COLUMNS),
        Queue("all", _("All tickets"), {"queue": "all"}),
    ]


def column_labels() -> dict[str, str]:
    """Every column a list can show, in the person's language (saved views choose among them)."""
    return {
        "number": _("Number"), "title": _("Title"), "status": _("Status"), "priority": _("Priority"),
        "category": _("Category"), "type": _("Type"), "channel": _("Channel"), "requester_id": _("Requester"),
        "group_id": _("Group"), "agent_id": _("Agent"), "tags": _("Tags"), "created_at": _("Opened"),
        "updated_at": _("Updated"), "sla_due_at": _("Due"),
    }  # fmt: skip


def order_labels() -> dict[str, str]:
    """The orders the API's list offers."""
    return {
        "-created_at": _("Newest first"), "created_at": _("Oldest first"), "-updated_at": _("Recently updated"),
        "updated_at": _("Least recently updated"), "priority": _("Most urgent first"),
        "-priority": _("Least urgent first"), "sla_due_at": _("Nearest due first"),
        "-sla_due_at": _("Furthest due first"),
    }  # fmt: skip


SORTABLE = ("priority", "created_at", "updated_at", "sla_due_at")  # the columns the API orders by


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort_href: str | None = None
    sorted: str | None = None  # aria-sort: ascending or descending


def columns_of(keys: tuple[str, ...], order: str, url: URL | None) -> list[Column]:
    """The columns to show; a sortable one links to the list ordered by it (again: the other way), unless
    there is no `url` to order (search's ranked results)."""
    labels = column_labels()
    shown = []
    for key in keys:
        if key not in labels:
            continue
        if key not in SORTABLE or url is None:
            shown.append(Column(key, labels[key]))
            continue
        sorted_ = "ascending" if order == key else "descending" if order == f"-{key}" else None
        then = f"-{key}" if order == key else key
        shown.append(
            Column(key, labels[key], str(url.remove_query_params("cursor").include_query_params(order=then)), sorted_)
        )
    return shown


@dataclass(frozen=True)
class Row:
    """One ticket as a queue shows it."""

    id: str
    number: str
    title: str
    status: str
    priority: str
    group_id: str | None
    agent_id: str | None
    created_at: str | None
    updated_at: str | None = None
    sla_due_at: str | None = None
    category: str = ""
    type: str = ""
    channel: str = ""
    requester_id: str = ""
    tags: list[str] = field(default_factory=list)


def row_of(ticket: dict[str, Any]) -> Row:
    return Row(
        str(ticket["id"]),
        str(ticket.get("number") or ""),
        str(ticket.get("title") or ""),
        str(ticket.get("status") or ""),
        str(ticket.get("priority") or ""),
        ticket.get("group_id"),
        ticket.get("agent_id"),
        ticket.get("created_at"),
        ticket.get("updated_at"),
        ticket.get("sla_due_at"),
        str(ticket.get("category") or ""),
        str(ticket.get("type") or ""),
        str(ticket.get("channel") or ""),
        str(ticket.get("requester_id") or ""),
        list(ticket.get("tags") or []),
    )


async def views_of(gateway: Gateway, session: Session) -> list[dict[str, Any]]:
    """The saved views the person sees, each saying whether they may change it (none for a customer, or when
    the API does not answer)."""
    if not session.is_staff:
        return []
    try:
        views = await gateway.saved_views(session.access_token)
    except GatewayError:
        return []
    tidies = bool({"supervisor", "admin"} & set(session.roles))
    return [view | {"changeable": view["owner"] == session.subject or tidies} for view in views]


async def counted(gateway: Gateway, session: Session) -> tuple[list[Queue], list[dict[str, Any]]]:
    """The person's queues and saved views, each with its count (one call for all the counts); a customer's
    queue without one. Left uncounted, not failed, when the API does not answer them."""
    queues = queues_of(session)
    views = await views_of(gateway, session)
    if not session.is_staff:
        return queues, []
    try:
        numbers = await gateway.counts(session.access_token, [q.key for q in queues], [v["id"] for v in views])
    except GatewayError:
        return queues, views
    by_queue, by_view = numbers.get("queues") or {}, numbers.get("views") or {}
    views = [view | {"count": by_view.get(view["id"])} for view in views]
    return [replace(q, count=by_queue.get(q.key)) for q in queues], views


async def show_list(
    request: Request,
    gateway: Gateway,
    session: Session,
    chosen: Queue,
    *,
    order: str | None,
    cursor: str | None,
    status_code: int = 200,
    **more: Any,
) -> Response:
    """A page of the chosen list (a queue, a saved view, a search) with the queues and views around it."""
    order = order or chosen.order or "-created_at"

    async def listed() -> tuple[dict[str, Any], str | None]:
        try:
            return await gateway.tickets(
                session.access_token, cursor=cursor, limit=50, order=order, **chosen.filters
            ), None
        except GatewayError as refused:
            return {}, str(refused)

    # Only the rows when htmx asks for them; otherwise the views around them too. Their counts and the
    # queues' come after the page, in a request of their own (`/queues/counts`): counting never delays it.
    partial = bool(request.headers.get("HX-Request"))
    (page, error), views = await asyncio.gather(listed(), _none() if partial else views_of(gateway, session))
    return render(
        request,
        "queue.html",
        session,
        status_code,
        queues=queues_of(session),
        views=views,
        counts_later=session.is_staff,
        queue=chosen,
        rows=[row_of(ticket) for ticket in page.get("tickets", [])],
        next_cursor=page.get("next_cursor"),
        list_error=error,
        blocks=("rows",),
        **list_extras(chosen.columns or DEFAULT_COLUMNS, order, request.url) | more,
    )


def list_extras(columns: tuple[str, ...], order: str, url: URL | None) -> dict[str, Any]:
    """What queue.html shows beside the rows: the columns (sortable by `url`), the save-as-a-view form's choices."""
    return {
        "columns": columns_of(columns, order, url), "column_labels": column_labels(), "order_labels": order_labels(),
        "order": order, "save_errors": {}, "save_form": {},
    }  # fmt: skip


async def _none() -> list[dict[str, Any]]:
    return []


def router(gateway: Gateway, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/queues/counts")
    async def counts(request: Request, session: Session = person) -> Response:
        """The counts of the queues and saved views, each swapped into its place on the page (htmx, out of
        band): asked for once the page has loaded, and again now and then while it is shown."""
        queues, views = await counted(gateway, session)
        return render(request, "queue_counts.html", session, queues=queues, views=views)

    @pages.get("/queues/{key}")
    async def queue(
        request: Request, key: str, session: Session = person, cursor: str | None = None, order: str | None = None
    ) -> Response:
        queues = queues_of(session)
        chosen = next((q for q in queues if q.key == key), None)
        if chosen is None:
            return render(request, "not_found.html", session, 404, queues=queues)
        return await show_list(request, gateway, session, chosen, order=order, cursor=cursor)

    return pages
