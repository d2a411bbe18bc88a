"""A tenant's custom ticket fields: define, list, retire."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.chassis.http.auth import Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.intake.tickets.application import Intake
from services.intake.tickets.fields import FieldKind

KEY = r"^[a-z][a-z0-9_]{0,39}$"


class DefineField(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=100)
    kind: FieldKind
    required: bool = False
    choices: list[str] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def choices_go_with_choice(self) -> DefineField:
        if (self.kind is FieldKind.CHOICE) != bool(self.choices):
            raise ValueError("choices are required for a choice field, and only for one")
        return self


def router(intake: Intake) -> APIRouter:
    api = APIRouter(prefix="/v1/fields", tags=["custom fields"])

    @api.get("")
    async def list_fields(who: CurrentIdentity) -> dict[str, Any]:
        fields = await asyncio.to_thread(intake.fields_of, who.tenant)
        return {"fields": fields.active()}

    @api.put("/{key}", dependencies=[requires(Role.ADMIN)])
    async def define(key: str = Path(pattern=KEY), *, body: DefineField, who: CurrentIdentity) -> dict[str, Any]:
        """Define (or redefine) a field; tickets opened from now on are checked against it."""
        fields = await asyncio.to_thread(
            intake.define_field, who.tenant, key, body.label, body.kind.value, body.required, body.choices, who.actor
        )
        return {"fields": fields.active()}

    @api.delete("/{key}", dependencies=[requires(Role.ADMIN)])
    async def retire(who: CurrentIdentity, key: str = Path(pattern=KEY)) -> dict[str, Any]:
        """Retire a field: history keeps its values, new tickets no longer take it."""
        fields = await asyncio.to_thread(intake.retire_field, who.tenant, key, who.actor)
        return {"fields": fields.active()}

    return api
