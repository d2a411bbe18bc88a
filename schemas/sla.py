"""SLA clock events, published on `sla.clocks`: every target's life, and reminders.

Every clock event names the policy, the metric, its target and due instant, and the
business time used when it happened, so a reader needs no other state to show it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from schemas.envelope import EventData


class SlaMetric(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class SlaClockData(EventData):
    """What every clock event carries about one metric of one ticket."""

    ticket_id: str
    policy_id: str
    metric: SlaMetric
    target_seconds: int = Field(description="The target in business seconds.")
    due_at: str = Field(description="When the target burns (UTC, ISO 8601); moves while paused.")
    business_seconds_used: int


class SlaStartedV1(SlaClockData):
    """A target started counting (ticket opened, customer wrote again, priority changed)."""

    event_type: ClassVar[str] = "sla.started"
    event_version: ClassVar[int] = 1


class SlaPausedV1(SlaClockData):
    """The target stopped counting: the ticket waits on the customer."""

    event_type: ClassVar[str] = "sla.paused"
    event_version: ClassVar[int] = 1


class SlaResumedV1(SlaClockData):
    """The target counts again: the customer answered or the pending time ended."""

    event_type: ClassVar[str] = "sla.resumed"
    event_version: ClassVar[int] = 1


class SlaMetV1(SlaClockData):
    """The target was met: answered or resolved in time (`breached` says if it burned first)."""

    event_type: ClassVar[str] = "sla.met"
    event_version: ClassVar[int] = 1

    breached: bool = False


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


class SlaCustomerRemindedV1(EventData):
    """The ticket waits on the customer past its pending time: remind them (channels send it)."""

    event_type: ClassVar[str] = "sla.customer_reminded"
    event_version: ClassVar[int] = 1

    ticket_id: str
    policy_id: str
    reminder: int = Field(ge=1, description="Which reminder this is.")
    reminders_before_resolving: int
    next_at: str | None = Field(description="When the next reminder (or the auto-resolution) is due.")


class SlaCustomerUnresponsiveV1(EventData):
    """Every reminder went unanswered: intake resolves the ticket with this reason."""

    event_type: ClassVar[str] = "sla.customer_unresponsive"
    event_version: ClassVar[int] = 1

    ticket_id: str
    policy_id: str
    reminders: int
    reason: str
