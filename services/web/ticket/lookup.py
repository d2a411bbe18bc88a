"""Finding the other ticket of a merge or a link from what an agent types: its number (`SD-2026-000123`,
as the page shows it) or its id."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.web.gateway_client import Gateway


async def other_ticket(gateway: Gateway, token: str, typed: str) -> dict[str, Any] | None:
    """The ticket (id, number, title) the person may see, or None when there is none they may see."""
    typed = typed.strip()
    try:
        UUID(typed)
    except ValueError:
        return await gateway.numbered(token, typed.upper()) if typed else None
    return await gateway.visible_ticket(token, typed)
