"""Which of the rules service's stored events are public: each firing, as `rules.trigger_fired`."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application

from schemas import topics
from schemas.envelope import EnvelopeFields
from schemas.rules import RULES_ACTOR, TriggerFiredV1
from services.chassis.messaging.relay import Publication, PublicFields, published_on, validated
from services.chassis.storage.ids import stable_id
from services.rules.domain import TicketAutomation

SOURCE = "rules"


def firing(event: Any, position: int) -> EnvelopeFields:
    """The firing keeps the chain's correlation id (loop protection counts by it) and is caused by the event
    that fired it."""
    data = TriggerFiredV1(
        ticket_id=event.ticket_id,
        firing_id=event.firing_id,
        trigger_id=event.trigger_id,
        trigger_version=event.trigger_version,
        trigger_name=event.trigger_name,
        event_type_seen=event.event_type_seen,
        event_id=event.event_id,
        reason=event.reason,
        actions=event.actions,
    )
    cause = event.cause
    return {
        "id": stable_id(SOURCE, event.firing_id),
        "type": data.event_type,
        "version": data.event_version,
        "source": SOURCE,
        "subject": event.ticket_id,
        "tenant": event.tenant,
        "actor": RULES_ACTOR,
        "occurred_at": event.timestamp,
        "sequence": event.originator_version,
        "position": position,
        "correlation_id": cause.get("correlation_id", event.firing_id),
        "causation_id": cause.get("causation_id", event.firing_id),
        "traceparent": cause.get("traceparent"),
        "data": data.model_dump(mode="json"),
    }


def public_fields(app: Application) -> PublicFields:  # type: ignore[type-arg]
    return published_on(topics.RULES_ACTIONS, TicketAutomation.Fired, firing, app)  # type: ignore[attr-defined]


def publication(app: Application) -> Publication:  # type: ignore[type-arg]
    return validated(public_fields(app))
