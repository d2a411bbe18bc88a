"""Which of the SLA store's events are public, on `sla.clocks`: one envelope per stored event at most."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from schemas import topics
from schemas.envelope import EnvelopeFields, EventData
from schemas.sla import (
    SlaBreachedV1,
    SlaCustomerRemindedV1,
    SlaCustomerUnresponsiveV1,
    SlaMetV1,
    SlaPausedV1,
    SlaResumedV1,
    SlaStartedV1,
    SlaWarningV1,
)
from services.chassis.messaging.relay import Publication, PublicFields, published_on, validated
from services.chassis.storage.ids import stable_id
from services.sla.clock import Clock

SOURCE = "sla"
ACTOR = "system:sla"
# Stored events never published, most of a clock's (each start and firing records its next due instant): the
# relay and the feed pass them by without decoding them.
_PRIVATE = frozenset(f"{get_topic(Clock)}.{name}" for name in ("Started", "Scheduled"))

_METRIC_EVENTS: dict[str, type[EventData]] = {
    "MetricStarted": SlaStartedV1,
    "MetricRetargeted": SlaStartedV1,
    "MetricPaused": SlaPausedV1,
    "MetricResumed": SlaResumedV1,
    "MetricMet": SlaMetV1,
    "Warned": SlaWarningV1,
    "Breached": SlaBreachedV1,
}


def _iso(instant: datetime | None) -> str:
    return instant.isoformat() if instant is not None else ""


def public_data(event: Any, policy_id: str) -> EventData | None:
    name, ticket_id = type(event).__name__, str(event.originator_id)
    if (model := _METRIC_EVENTS.get(name)) is not None:
        fields: dict[str, Any] = {
            "ticket_id": ticket_id, "policy_id": policy_id, "metric": event.metric, "target_seconds": event.target,
            "due_at": _iso(event.due_at), "business_seconds_used": round(event.used),
        }  # fmt: skip
        if name == "Warned":
            fields["threshold_percent"] = event.threshold
        if name == "MetricMet":
            fields["breached"] = event.breached
        return model(**fields)
    if name == "Reminded":
        return SlaCustomerRemindedV1(
            ticket_id=ticket_id,
            policy_id=policy_id,
            reminder=event.reminder,
            reminders_before_resolving=0,
            next_at=_iso(event.next_at) or None,
        )
    if name == "Unresponsive":
        reason = f"no answer from the customer after {event.reminders} reminders"
        return SlaCustomerUnresponsiveV1(
            ticket_id=ticket_id, policy_id=policy_id, reminders=event.reminders, reason=reason
        )
    return None


def clock_envelope(event: Clock.Event, position: int) -> EnvelopeFields | None:
    """A clock's stored event as `sla.clocks` carries it, or None for a private one."""
    data = public_data(event, event.policy_id)
    if data is None:
        return None
    key = f"{event.originator_id}/{event.originator_version}"
    return {
        "id": stable_id(SOURCE, key), "type": data.event_type, "version": data.event_version,
        "source": SOURCE, "subject": str(event.originator_id), "tenant": event.tenant, "actor": ACTOR,
        "occurred_at": getattr(event, "at", event.timestamp), "sequence": event.originator_version,
        "position": position, "correlation_id": f"sla:{event.originator_id}", "causation_id": key,
        "data": data.model_dump(mode="json"),
    }  # fmt: skip


def public_fields(app: Application) -> PublicFields:  # type: ignore[type-arg]
    public = published_on(topics.SLA_CLOCKS, Clock.Event, clock_envelope, app)

    def fields(notification: Notification) -> tuple[str, EnvelopeFields] | None:
        return None if notification.topic in _PRIVATE else public(notification)

    return fields


def publication(app: Application) -> Publication:  # type: ignore[type-arg]
    return validated(public_fields(app))
