"""Which of routing's stored events are public: each decision, as `routing.decided`."""

from __future__ import annotations

from eventsourcing.application import Application

from schemas import topics
from schemas.envelope import EnvelopeFields
from schemas.routing import ROUTING_ACTOR, RoutingDecidedV1
from services.chassis.messaging.relay import Publication, PublicFields, published_on, validated
from services.chassis.storage.ids import stable_id
from services.routing.domain import TicketRouting

SOURCE = "routing"


def decision(event: TicketRouting.Decided, position: int) -> EnvelopeFields:
    ticket_id = str(event.originator_id)
    decision_id = f"{ticket_id}/{event.originator_version}"
    data = RoutingDecidedV1(
        ticket_id=ticket_id,
        decision_id=decision_id,
        kind=event.kind,
        group_id=event.group_id,
        agent_id=event.agent_id,
        tier=event.tier,
        rule_id=event.rule_id,
        reason=event.reason,
        skills=event.skills,
        rules_passed_over=event.rules_passed_over,
        agents_passed_over=event.agents_passed_over,
        overrides_manual=event.overrides_manual,
    )
    cause = event.cause
    return {
        "id": stable_id(SOURCE, decision_id),
        "type": data.event_type,
        "version": data.event_version,
        "source": SOURCE,
        "subject": ticket_id,
        "tenant": event.tenant,
        "actor": cause.get("actor", ROUTING_ACTOR),
        "occurred_at": event.timestamp,
        "sequence": event.originator_version,
        "position": position,
        "correlation_id": cause.get("correlation_id", decision_id),
        "causation_id": cause.get("causation_id", decision_id),
        "traceparent": cause.get("traceparent"),
        "data": data.model_dump(mode="json"),
    }


def public_fields(app: Application) -> PublicFields:  # type: ignore[type-arg]
    """A stored decision to its (topic, envelope fields); everything else stays private."""
    return published_on(topics.ROUTING_DECISIONS, TicketRouting.Decided, decision, app)


def publication(app: Application) -> Publication:  # type: ignore[type-arg]
    """The relay's mapping: a stored decision to its (topic, envelope); everything else stays private."""
    return validated(public_fields(app))
