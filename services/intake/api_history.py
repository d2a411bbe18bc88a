"""The audit history: every event of a ticket, and proof that none was altered."""

from __future__ import annotations

import asyncio
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from services.chassis.auth import Role
from services.chassis.identity import CurrentIdentity, requires
from services.intake.access import Scope, visible_ticket
from services.intake.application import Intake, Verification
from services.intake.representations import HistoryEntry, history_entry


class History(BaseModel):
    ticket_id: UUID
    events: list[HistoryEntry]


class VerificationView(BaseModel):
    intact: bool
    checked: int
    broken_at: dict[str, object] | None

    @classmethod
    def of(cls, verification: Verification) -> VerificationView:
        broken = verification.broken
        at = (
            None
            if broken is None
            else {"ticket_id": broken.originator_id, "version": broken.version, "reason": broken.reason}
        )
        return cls(intact=broken is None, checked=verification.checked, broken_at=at)


def router(intake: Intake) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["history"])

    def entries(ticket_id: UUID, tenant: str) -> list[HistoryEntry]:
        return [history_entry(event, intake.personal) for event in intake.history(ticket_id, tenant)]

    @api.get("/tickets/{ticket_id}/history", response_model=History)
    async def history(ticket_id: UUID, who: CurrentIdentity) -> History:
        """Every event in order: who, when, why, and what it changed (a customer: without internal notes)."""
        await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        events = await asyncio.to_thread(entries, ticket_id, who.tenant)
        if not Scope.of(who.principal).staff:
            events = [e for e in events if e.changes.get("public", True) is not False]
        return History(ticket_id=ticket_id, events=events)

    @api.get("/tickets/{ticket_id}/verify", response_model=VerificationView)
    async def verify_ticket(ticket_id: UUID, who: CurrentIdentity) -> VerificationView:
        """Walk the ticket's hash chain; report the first event that was altered or is missing."""
        await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        return VerificationView.of(await asyncio.to_thread(intake.verify, ticket_id, who.tenant))

    @api.get("/audit/verify", response_model=VerificationView, dependencies=[requires(Role.ADMIN)])
    async def verify_store(who: CurrentIdentity) -> VerificationView:
        """Walk every chain of the tenant's tickets (an admin's check; it reads all of them)."""
        return VerificationView.of(await asyncio.to_thread(intake.verify, None, who.tenant))

    return api
