"""The audit history: every event of a ticket, and proof that none was altered."""

from __future__ import annotations

import asyncio
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.chassis.http.auth import Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.intake.audit.auditor import Anchor, Verification
from services.intake.tickets.access import readable, visible_ticket
from services.intake.tickets.application import Intake
from services.intake.tickets.representations import HistoryEntry


class History(BaseModel):
    ticket_id: UUID
    events: list[HistoryEntry]


class CheckpointView(BaseModel):
    """The newest signed checkpoint of every stream's head."""

    sequence: int = Field(description="The checkpoint's number in the checkpoint stream.")
    position: int = Field(description="The store position it covers up to.")
    taken_at: datetime

    @classmethod
    def of(cls, anchor: Anchor | None) -> CheckpointView | None:
        return None if anchor is None else cls(**vars(anchor))


class VerificationView(BaseModel):
    intact: bool
    checked: int
    broken_at: dict[str, object] | None = Field(description="The first problem (as in `problems`), or null.")
    problems: list[dict[str, object]] = Field(
        description="Each stream's first missing, altered or extra event: ticket_id (the stream), version, reason."
    )
    checkpoint: CheckpointView | None = Field(
        description="The newest checkpoint compared with; null when the desk has none yet (truncation and"
        " deletion cannot be told then)."
    )

    @classmethod
    def of(cls, verification: Verification) -> VerificationView:
        problems = [
            {"ticket_id": p.originator_id, "version": p.version, "reason": p.reason} for p in verification.problems
        ]
        return cls(
            intact=not problems,
            checked=verification.checked,
            broken_at=problems[0] if problems else None,
            problems=problems,
            checkpoint=CheckpointView.of(verification.checkpoint),
        )


def router(intake: Intake) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["history"])

    @api.get("/tickets/{ticket_id}/history", response_model=History)
    async def history(ticket_id: UUID, who: CurrentIdentity) -> History:
        """Every event in order: who, when, why, and what it changed (a customer: without internal notes)."""
        ticket = await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        events = await asyncio.to_thread(intake.story, ticket_id, who.tenant)
        return History(ticket_id=ticket_id, events=readable(events, who.principal, ticket))

    @api.get("/tickets/{ticket_id}/verify", response_model=VerificationView)
    async def verify_ticket(ticket_id: UUID, who: CurrentIdentity) -> VerificationView:
        """Walk the ticket's hash chain; report the first event that was altered or is missing."""
        await asyncio.to_thread(visible_ticket, intake, ticket_id, who.principal)
        return VerificationView.of(await asyncio.to_thread(intake.verify, ticket_id, who.tenant))

    @api.get("/audit/verify", response_model=VerificationView, dependencies=[requires(Role.ADMIN)])
    async def verify_store(who: CurrentIdentity) -> VerificationView:
        """Walk every chain of the tenant's tickets (an admin's check; it reads all of them)."""
        return VerificationView.of(await asyncio.to_thread(intake.verify, None, who.tenant))

    @api.post("/audit/checkpoints", response_model=CheckpointView | None, dependencies=[requires(Role.ADMIN)])
    async def checkpoint() -> CheckpointView | None:
        """Record a signed checkpoint of every stream's head now (the desk also does so periodically);
        the newest checkpoint."""
        return CheckpointView.of(await asyncio.to_thread(intake.audit.checkpoint))

    return api
