"""The notifications sent about a ticket, with their delivery records, for the tenant's admin."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from services.chassis.http.auth import Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.intake.http.work import TicketId
from services.intake.notifications.deliveries import Deliveries
from services.intake.tickets.application import Intake


def router(intake: Intake, deliveries: Deliveries) -> APIRouter:
    api = APIRouter(prefix="/v1/tickets", tags=["notifications"], dependencies=[requires(Role.ADMIN)])

    @api.get("/{ticket_id}/notifications")
    async def notifications(ticket_id: TicketId, who: CurrentIdentity) -> dict[str, Any]:
        """Every message sent (or being sent) to the requester, oldest first: kind, channel, status
        (pending, sending, sent, held, failed), attempts, the server's last reply or error, when
        sent; and the notifications still waiting for a route to the requester (or given up)."""
        await asyncio.to_thread(intake.get_ticket, ticket_id, who.tenant)  # another tenant's: 404
        return {
            "messages": await asyncio.to_thread(deliveries.log, who.tenant, str(ticket_id)),
            "unrouted": await asyncio.to_thread(deliveries.waiting_log, who.tenant, str(ticket_id)),
        }

    return api
