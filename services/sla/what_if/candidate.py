"""A candidate SLA setup, in the shape SLA's API takes policies: the policies to change (or add) and any
calendars they need. Its errors name the field (`policies.0.targets.first_response`)."""

from __future__ import annotations

from copy import deepcopy
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.chassis.domain.calendar import BusinessCalendar
from services.sla.api import NAME, PolicySpec
from services.sla.policies import SlaSetup, SlaSetupError


class CandidatePolicy(PolicySpec):
    """A policy as `PUT /v1/sla/policies/{policy_id}` takes it, with its id: an existing policy changes in
    place (keeping its place in the order), a new one is tried after the others."""

    policy_id: Annotated[str, Field(pattern=NAME)]


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policies: list[CandidatePolicy] = Field(min_length=1, description="The policies as they would be.")
    calendars: dict[Annotated[str, Field(pattern=NAME)], dict[str, Any]] = Field(
        default_factory=dict, description="Calendars as `PUT /v1/sla/calendars/{calendar_id}` takes them."
    )

    @field_validator("calendars")
    @classmethod
    def _calendars_hold(cls, calendars: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for calendar_id, spec in calendars.items():
            try:
                BusinessCalendar.from_spec(spec)
            except ValueError as error:
                raise ValueError(f"{calendar_id}: {error}") from None
        return calendars

    def applied(self, setup: SlaSetup | None, tenant: str, newest: SlaSetup | None = None) -> SlaSetup:
        """`setup` (untouched) as it would be with this candidate: a copy, changed by the live setup's own
        commands, so the candidate is checked as an admin's change would be (SlaSetupError names the field).
        A calendar the candidate names that an older `setup` lacks is taken from the `newest` setup."""
        changed = deepcopy(setup) if setup is not None else SlaSetup(tenant)
        for calendar_id, spec in (newest.calendars if newest is not None else {}).items():
            if calendar_id not in changed.calendars and calendar_id not in self.calendars:
                changed.define_calendar(calendar_id, spec)
        for calendar_id, spec in self.calendars.items():
            try:
                changed.define_calendar(calendar_id, spec)
            except SlaSetupError as error:
                raise SlaSetupError(str(error), f"calendars.{calendar_id}.{error.field}") from None
        for index, policy in enumerate(self.policies):
            try:
                changed.define_policy(policy.as_policy(policy.policy_id))
            except SlaSetupError as error:
                raise SlaSetupError(str(error), f"policies.{index}.{error.field}") from None
        changed.collect_events()  # a sandbox's: never saved
        return changed
