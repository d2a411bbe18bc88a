"""SLA clock events, published on `sla.clocks`, that other services react to."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from schemas.tickets import EventData


class SlaMetric(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class SlaWarningV1(EventData):
    """A target is about to burn: `threshold_percent` of its business time is used."""

    event_type: ClassVar[str] = "sla.warning"
    event_version: ClassVar[int] = 1

    ticket_id: str
    policy_id: str
    metric: SlaMetric
    threshold_percent: int = Field(ge=1, le=100)
    target_seconds: int = Field(description="The target in business seconds.")
    due_at: str = Field(description="When the target burns (UTC, ISO 8601).")
    business_seconds_used: int


class SlaBreachedV1(EventData):
    """A target burned: the desk did not answer or resolve in the agreed business time."""

    event_type: ClassVar[str] = "sla.breached"
    event_version: ClassVar[int] = 1

    ticket_id: str
    policy_id: str
    metric: SlaMetric
    target_seconds: int
    due_at: str
    business_seconds_used: int
