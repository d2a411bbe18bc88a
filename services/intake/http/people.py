"""The people behind tickets, for the tenant's admin: erasure (the right to be forgotten),
subject access export, and the audit of erasures."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from services.chassis.http.auth import Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.chassis.http.problems import DomainProblem
from services.intake.people.erasure import Erasures, UnknownPersonError
from services.intake.people.subject_access import SubjectAccess

RequesterId = Annotated[str, Path(min_length=1, max_length=200, description="The requester id on their tickets.")]


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000, description="Why (e.g. the request's reference): audited.")


class ErasureView(BaseModel):
    requester_id: str
    by: str = Field(description="The admin who asked for it.")
    reason: str
    recorded_at: str
    completed_at: str | None = Field(description="Null while the key or the read models are still being erased.")
    tickets: int | None = Field(None, description="The requester's tickets whose words were erased.")


class ErasureList(BaseModel):
    erasures: list[ErasureView]


class PersonNotFound(DomainProblem):
    status = 404
    title = "Person not found"


def router(erasures: Erasures, access: SubjectAccess) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["people"], dependencies=[requires(Role.ADMIN)])

    @api.post("/people/{requester_id}/erasure", response_model=ErasureView)
    async def erase(requester_id: RequesterId, body: ErasureRequest, who: CurrentIdentity) -> ErasureView:
        """Erase the person: recorded (audited) first, then their key destroyed, so every word of theirs
        reads `[erased]` while every ticket's history, SLA figures and reports stay whole. Idempotent."""
        try:
            entry = await asyncio.to_thread(erasures.erase, who.tenant, requester_id, who.actor, body.reason)
        except UnknownPersonError:
            raise _not_found(requester_id) from None
        return ErasureView(**entry)

    @api.get("/people/{requester_id}/export")
    async def export(requester_id: RequesterId, who: CurrentIdentity) -> dict[str, Any]:
        """Everything held about the person (subject access request): profile, tickets, reply routes, erasure."""
        found = await asyncio.to_thread(access.export, who.tenant, requester_id)
        if found is None:
            raise _not_found(requester_id)
        return found

    @api.get("/audit/erasures", response_model=ErasureList)
    async def audit(who: CurrentIdentity) -> ErasureList:
        """Every erasure of the tenant: who asked, why, when, and when it completed."""
        entries = await asyncio.to_thread(erasures.all, who.tenant)
        return ErasureList(erasures=[ErasureView(**entry) for entry in entries])

    return api


def _not_found(requester_id: str) -> PersonNotFound:
    return PersonNotFound(f"nothing is held about {requester_id!r} in this tenant", requester_id=requester_id)
