"""What the ticket's action routes share: showing the page again with the API's refusal beside the
field it names, or going back to the ticket once the change is made (post/redirect/get)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from services.web.gateway_client import GatewayError
from services.web.sessions import Session

FIELDS = frozenset({"into", "kind", "title"})  # named alike by the API and the forms; `reason` is each form's own


class Show(Protocol):
    """The ticket page (services/web/tickets.py), with errors beside their fields and what was typed kept."""

    async def __call__(
        self,
        request: Request,
        session: Session,
        ticket_id: str,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        typed: dict[str, str] | None = None,
    ) -> Response: ...


def placed(error: GatewayError, default: str) -> dict[str, str]:
    """The API's message beside the field it names: `custom_fields.seats` → `cf-seats`, `tags_add.0` → `tags`;
    a field the form does not have, beside `default`."""
    problem = error.problem
    named = [e for e in problem.get("errors", []) if isinstance(e, dict) and e.get("field")]
    field = str(problem.get("field") or (named[0]["field"] if named else ""))
    message = str(named[0].get("message") or error) if named else str(error)
    head, _dot, rest = field.partition(".")
    if head == "custom_fields" and rest:
        return {f"cf-{rest.split('.')[0]}": message}
    if head in ("tags_add", "tags_remove"):
        return {"tags": message}
    return {head if head in FIELDS else default: message}


async def then_back(
    show: Show,
    request: Request,
    session: Session,
    ticket_id: str,
    change: Awaitable[object],
    field: str,
    typed: dict[str, str],
) -> Response:
    """The change made, then back to the ticket; refused, the page again with the reason beside `field`."""
    try:
        await change
    except GatewayError as error:
        return await show(request, session, ticket_id, placed(error, field), 422, typed)
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
